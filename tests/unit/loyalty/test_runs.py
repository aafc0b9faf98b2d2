"""A run of events is applied as a set: the same rows and the same published events as one
event per transaction, each table read and written once per run whatever its size, each
customer's rows written once per run, duplicates applied once."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from services.loyalty import models
from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness
from tests.unit.loyalty.test_handlers import T0, order, refund

NOW = T0 + timedelta(days=3)
GENERATED = {"seq", "entry_id", "id", "hold_id"}
ORDERED_BY: dict[Any, list[str]] = {
    models.Account: ["customer_id"],
    models.LedgerEntryRow: ["seq"],
    models.Lot: ["customer_id", "lot_id"],
    models.Hold: ["customer_id", "hold_key"],
    models.Order: ["customer_id", "order_id"],
    models.OrderRefund: ["customer_id", "order_id", "source_id"],
    models.ClaimedReward: ["customer_id", "reward_key"],
    models.DailyEarning: ["customer_id", "business_day"],
    models.MonthlySpend: ["customer_id", "business_month"],
}


@asynccontextmanager
async def two_services(tmp_path: Path) -> AsyncIterator[tuple[ServiceHarness, ServiceHarness]]:
    """One service to apply runs in one transaction, one to apply them event by event."""
    (tmp_path / "run").mkdir()
    (tmp_path / "each").mkdir()
    async with (
        service_harness("loyalty", tmp_path / "run", clock=FixedClock(NOW)) as run,
        service_harness("loyalty", tmp_path / "each", clock=FixedClock(NOW)) as each,
    ):
        yield run, each


async def state(svc: ServiceHarness) -> dict[str, list[dict[str, Any]]]:
    """Every row loyalty holds but the generated ids, the ledger in its order and the other
    tables in key order, and what it published, in order."""
    found: dict[str, list[dict[str, Any]]] = {}
    async with svc.runtime.read() as session:
        for model, order_by in ORDERED_BY.items():
            table = model.__table__
            rows = await session.execute(select(table).order_by(*(table.c[c] for c in order_by)))
            found[table.name] = [
                {k: v for k, v in row._asdict().items() if k not in GENERATED} for row in rows
            ]
    found["published"] = [
        {"type": e.type, "subject": e.subject, "time": e.time, "data": e.data}
        for e in await svc.published()
    ]
    return found


@contextmanager
def statements(svc: ServiceHarness) -> Iterator[Counter[str]]:
    """The statements the service runs meanwhile, by their first words, and the rows each
    executemany carried (under "<statement> rows")."""
    seen: Counter[str] = Counter()

    def count(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        words = " ".join(statement.split()[:3])
        seen[words] += 1
        if isinstance(parameters, list):
            seen[f"{words} rows"] += len(parameters)

    engine = svc.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def a_mixed_run() -> list[dict[str, Any]]:
    """Customers old and new, a referral inside the run (the referrer known to loyalty but
    not named by the run) and one whose referrer is new to loyalty, an order over the cap, a
    refund ahead of its order and after it, a review, and redeliveries of every kind."""
    known_referrer, new_referrer = new_id("c"), new_id("c")
    referee, other_referee, big, small = (new_id("c") for _ in range(4))
    first, refunded_first, big_order = new_id("o"), new_id("o"), new_id("o")
    twice = order(small, new_id("o"), "30.00", T0 + timedelta(minutes=5))
    return [
        builders.customer_registered(known_referrer, at=T0 - timedelta(days=40)),
        builders.customer_registered(referee, referrer_id=known_referrer, at=T0),
        builders.customer_registered(other_referee, referrer_id=new_referrer, at=T0),
        order(referee, first, "100.00", T0 + timedelta(minutes=1)),
        order(other_referee, new_id("o"), "10.00", T0 + timedelta(minutes=1)),
        twice,
        order(big, big_order, "2700.00", T0 + timedelta(minutes=2)),  # 5400: 400 held
        refund(small, refunded_first, "20.00", T0 + timedelta(minutes=3)),
        order(referee, new_id("o"), "50.00", T0 + timedelta(minutes=4)),
        twice,  # the same event again: the inbox
        {**twice, "id": new_id("again")},  # the same order under a new id: the rules
        order(small, refunded_first, "80.00", T0 + timedelta(minutes=6)),
        order(big, new_id("o"), "500.00", T0 + timedelta(hours=1)),  # all held: cap reached
        refund(big, big_order, "270.00", T0 + timedelta(hours=2)),
        builders.review_posted(referee, order_id=first, rating=5, at=T0 + timedelta(hours=3)),
        order(small, new_id("o"), "2100.00", T0 + timedelta(days=1)),  # silver
    ]


async def test_a_run_stores_and_publishes_what_one_transaction_per_event_does(tmp_path):
    events = a_mixed_run()
    async with two_services(tmp_path) as (run, each):
        # The referrer known before the run.
        await run.deliver(events[0])
        await each.deliver(events[0])

        outcomes = await run.deliver(*events[1:])
        assert outcomes == await each.deliver_each(*events[1:])
        assert outcomes.count("duplicate") == 1

        in_run, one_by_one = await state(run), await state(each)
        assert in_run == one_by_one
    reasons = Counter(entry["reason"] for entry in in_run["ledger_entries"])
    assert reasons["referrer_bonus"] == reasons["referee_bonus"] == 2
    assert reasons["refund"] == 3  # the early refund, then the hold and the balance
    assert {hold["status"] for hold in in_run["holds"]} == {"refunded", "pending"}
    assert "tier.changed" in {e["type"] for e in in_run["published"]}


async def test_runs_cost_the_same_statements_whatever_their_size(tmp_path):
    customers = [new_id("c") for _ in range(40)]

    def orders_of(count: int, hours: int) -> list[dict[str, Any]]:
        return [
            order(customers[k % len(customers)], new_id("o"), "120.00", T0 + timedelta(hours=hours))
            for k in range(count)
        ]

    async with service_harness("loyalty", tmp_path, clock=FixedClock(NOW)) as svc:
        await svc.deliver(*orders_of(40, 0))  # every customer known
        with statements(svc) as small:
            await svc.deliver(*orders_of(4, 1))
        with statements(svc) as large:
            await svc.deliver(*orders_of(200, 2))

    def kinds(seen: Counter[str]) -> Counter[str]:
        return Counter({k: n for k, n in seen.items() if not k.endswith(" rows")})

    assert kinds(small) == kinds(large)
    assert sum(kinds(large).values()) <= 16
    # Each customer's account, day and month rows are written once per run: 40 customers.
    account_updates = [k for k in large if k.startswith("UPDATE accounts") and k.endswith("rows")]
    assert [large[k] for k in account_updates] == [40]
    assert large["INSERT INTO ledger_entries rows"] == 200


async def test_a_customer_s_orders_in_one_run_add_up_in_one_row_per_day_and_month(tmp_path):
    customer_id = new_id("c")
    orders = [
        order(customer_id, new_id("o"), "1000.00", T0 + timedelta(minutes=k)) for k in range(4)
    ]

    async with service_harness("loyalty", tmp_path, clock=FixedClock(NOW)) as svc:
        with statements(svc) as seen:
            assert await svc.deliver(*orders) == ["handled"] * 4
        async with svc.runtime.read() as session:
            days = (await session.execute(select(models.DailyEarning.__table__))).all()
            months = (await session.execute(select(models.MonthlySpend.__table__))).all()
            account = (await session.execute(select(models.Account.__table__))).one()
    # 2000 (x2: first and large order), 2000 (x2: large), then silver: 2200 twice, over the
    # cap of 5000 a day but 1000: 1200 + 2200 held.
    assert [(row.customer_id, row.points) for row in days] == [(customer_id, 5000)]
    assert [(row.business_month.isoformat(), row.net_spend_fen) for row in months] == [
        ("2025-03-01", 400_000)
    ]
    assert (account.orders_placed, account.tier, account.held) == (4, "silver", 1200 + 2200)
    assert seen["INSERT INTO accounts"] == 1


async def test_duplicates_in_a_run_are_applied_once(tmp_path):
    customer_id, order_id = new_id("c"), new_id("o")
    placed = order(customer_id, order_id, "100.00")
    refunded = refund(customer_id, order_id, "50.00", T0 + timedelta(minutes=1))
    replayed = {**refunded, "source": "storefront-replay"}  # passes the inbox: same id

    async with service_harness("loyalty", tmp_path, clock=FixedClock(NOW)) as svc:
        outcomes = await svc.deliver(
            placed, placed, {**placed, "id": new_id("e")}, refunded, replayed
        )
        assert outcomes == ["handled", "duplicate", "handled", "handled", "handled"]
        async with svc.runtime.read() as session:
            entries = (
                await session.execute(
                    select(models.LedgerEntryRow.kind, models.LedgerEntryRow.points).order_by(
                        models.LedgerEntryRow.seq
                    )
                )
            ).all()
    assert [tuple(entry) for entry in entries] == [("earn", 200), ("clawback", -100)]


async def test_an_award_to_a_referrer_new_to_loyalty_opens_its_account(tmp_path):
    referrer, referee = new_id("c"), new_id("c")
    async with service_harness("loyalty", tmp_path, clock=FixedClock(NOW)) as svc:
        await svc.deliver(builders.customer_registered(referee, referrer_id=referrer, at=T0))
        await svc.deliver(order(referee, new_id("o"), "10.00", T0 + timedelta(minutes=1)))

        body = (await svc.client.get(f"/v1/customers/{referrer}/points")).json()
        assert body["balance"] == 200
        earned = [e.data for e in await svc.published("points.earned") if e.subject == referrer]
        assert [(e["reason"], e["points"]) for e in earned] == [("referrer_bonus", 200)]
