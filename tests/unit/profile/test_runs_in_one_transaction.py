"""The consumer applies a run of a partition's events in one transaction: the run must leave
what the same events leave one transaction each (but for coalescing: one evaluation and at
most one profile.tagged per customer and run), reading each table once and writing each once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.clock import FixedClock
from shared.tables import outbox
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PROFILE_TABLES = {
    "customers": "customer_id",
    "customer_tags": "customer_id, tag",
    "ticket_states": "ticket_id",
    "customer_orders": "order_id",
}


@asynccontextmanager
async def twin_services(tmp_path: Path, clock: FixedClock) -> AsyncIterator[tuple[Any, Any]]:
    """Two fresh profile services: one fed an event per transaction, one fed whole runs."""
    (tmp_path / "one_by_one").mkdir()
    (tmp_path / "runs").mkdir()
    async with (
        service_harness("profile", tmp_path / "one_by_one", clock=clock) as one_by_one,
        service_harness("profile", tmp_path / "runs", clock=clock) as runs,
    ):
        yield one_by_one, runs


def viewed(customer_id: str, at: datetime) -> dict[str, Any]:
    return builders.product_viewed(customer_id, sku=new_id("sku"), category="robot_vacuum", at=at)


def placed(customer_id: str, order_id: str, at: datetime) -> dict[str, Any]:
    return builders.order_placed(
        customer_id, amount="200.00", order_id=order_id, category="snacks", channel="online", at=at
    )


def refunded(customer_id: str, order_id: str, at: datetime) -> dict[str, Any]:
    return builders.order_refunded(
        customer_id, order_id, amount="200.00", reason="size_mismatch", at=at
    )


def ticket_opened(customer_id: str, ticket_id: str, at: datetime) -> dict[str, Any]:
    return builders.ticket_opened(
        customer_id, ticket_id=ticket_id, kind="inquiry", category="logistics", at=at
    )


def ticket_resolved(customer_id: str, ticket_id: str, at: datetime) -> dict[str, Any]:
    return builders.ticket_resolved(
        customer_id, ticket_id=ticket_id, kind="inquiry", category="logistics", csat=5, at=at
    )


def tier_changed(customer_id: str, old: str, new: str, at: datetime) -> dict[str, Any]:
    return builders.tier_changed(customer_id, old_tier=old, new_tier=new, at=at)


def first_run(browser: str, ticketed: str, left_open: str) -> list[dict[str, Any]]:
    """A new customer who browses, then buys (a tag added and dropped in the same run), and
    tickets resolved before they open, opened twice, and opened, resolved and opened again."""
    order_id, early, twice, first = new_id("o"), new_id("t"), new_id("t"), new_id("t")
    return [
        builders.customer_registered(
            browser, name="Li Wei", consents={"email": True, "sms": False}, at=T0
        ),
        *[viewed(browser, T0 + n * MINUTE) for n in range(1, 6)],
        placed(browser, order_id, T0 + 6 * MINUTE),
        ticket_resolved(browser, early, T0 + 7 * MINUTE),
        ticket_opened(browser, early, T0 + 8 * MINUTE),
        ticket_opened(browser, twice, T0 + 9 * MINUTE),
        ticket_opened(browser, twice, T0 + 10 * MINUTE),
        ticket_opened(ticketed, first, T0 + 11 * MINUTE),
        ticket_resolved(ticketed, first, T0 + 12 * MINUTE),
        ticket_opened(ticketed, left_open, T0 + 13 * MINUTE),
        refunded(browser, order_id, T0 + 14 * MINUTE),
        tier_changed(browser, "silver", "gold", T0 + 15 * MINUTE),
        tier_changed(browser, "bronze", "silver", T0 + 2 * MINUTE),  # late: ignored
    ]


def second_run(browser: str, ticketed: str, left_open: str) -> list[dict[str, Any]]:
    """Stored tags dropped and added back, a silence, a complaint, a profile update."""
    next_ticket = new_id("t")
    return [
        ticket_resolved(ticketed, left_open, T0 + 20 * MINUTE),
        ticket_opened(ticketed, next_ticket, T0 + 21 * MINUTE),
        ticket_resolved(ticketed, next_ticket, T0 + 22 * MINUTE),
        builders.silence_started(browser, until=T0 + timedelta(days=3), at=T0 + 23 * MINUTE),
        builders.complaint_opened(
            browser, ticket_id=new_id("t"), category="logistics", at=T0 + 24 * MINUTE
        ),
        builders.customer_updated(
            browser, phone="+8613800000000", consents={"sms": True}, at=T0 + 25 * MINUTE
        ),
        tier_changed(browser, "gold", "silver", T0 + 26 * MINUTE),
    ]


async def snapshot(svc: ServiceHarness, *, since: bool = True) -> dict[str, list[Any]]:
    """Every profile row, and the outbox's events without their random ids, in order;
    without ``since``, tags without the moment they were added (a run adds a tag as of its
    evaluation, which coalesces its events)."""
    found: dict[str, list[Any]] = {}
    async with svc.runtime.engine.connect() as connection:
        for table, order in PROFILE_TABLES.items():
            rows = await connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
            found[table] = [dict(row) for row in rows.mappings()]
        events = await connection.execute(
            select(outbox.c.topic, outbox.c.payload).order_by(outbox.c.seq)
        )
        found["outbox"] = [(topic, _without_id(payload)) for topic, payload in events]
    if not since:
        for row in found["customer_tags"]:
            row.pop("since")
    return found


def _without_id(payload: str) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(payload)
    envelope.pop("id")
    return envelope


def tag_sets(outbox_events: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Each customer's profile.tagged payloads, in order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for topic, envelope in outbox_events:
        if topic == "profile.tagged":
            found.setdefault(envelope["subject"], []).append(envelope["data"])
    return found


def coalesces(one_by_one: list[dict[str, Any]], runs: list[dict[str, Any]]) -> bool:
    """Whether ``runs`` announces what ``one_by_one`` does with consecutive changes taken
    together: its tag sets are some of the other's, in order, ending with the same set, and
    each announces the change from the set before it."""
    sets = [data["tags"] for data in one_by_one]
    position, before = 0, set[str]()
    for data in runs:
        if data["tags"] not in sets[position:]:
            return False
        position = sets.index(data["tags"], position) + 1
        after = set(data["tags"])
        if (set(data["added"]), set(data["removed"])) != (after - before, before - after):
            return False
        before = after
    return bool(runs) == bool(sets) and (not runs or runs[-1]["tags"] == sets[-1])


async def test_a_run_in_one_transaction_leaves_what_one_transaction_per_event_leaves(
    tmp_path: Path,
) -> None:
    browser, ticketed, erased, left_open = new_id("c"), new_id("c"), new_id("c"), new_id("t")
    after_erasure = [
        viewed(erased, T0 + 30 * MINUTE),
        builders.customer_updated(erased, name="Li Wei", at=T0 + 31 * MINUTE),
        ticket_opened(erased, new_id("t"), T0 + 32 * MINUTE),
        viewed(browser, T0 + 33 * MINUTE),
    ]
    clock = FixedClock(T0)
    async with twin_services(tmp_path, clock) as (one_by_one, runs):
        for run in (
            first_run(browser, ticketed, left_open),
            second_run(browser, ticketed, left_open),
            [
                builders.customer_registered(erased, at=T0),
                *[viewed(erased, T0 + n * MINUTE) for n in range(6)],
            ],
        ):
            await one_by_one.deliver_each(*run)
            await runs.deliver(*run)
        clock.set(T0 + 29 * MINUTE)
        for profile in (one_by_one, runs):
            assert (await profile.client.delete(f"/v1/customers/{erased}")).status_code == 200
        await one_by_one.deliver_each(*after_erasure)
        await runs.deliver(*after_erasure)
        clock.set(T0 + timedelta(days=40))
        for profile in (one_by_one, runs):
            await profile.run_task("tag-sweep")

        expected, found = await snapshot(one_by_one, since=False), await snapshot(runs, since=False)
        assert len(expected["customer_tags"]) > 3
        assert len(expected["outbox"]) > 5
        for table in PROFILE_TABLES:
            assert found[table] == expected[table], table
        erasures = [e for e in expected["outbox"] if e[0] == "customer.erased"]
        assert [e for e in found["outbox"] if e[0] == "customer.erased"] == erasures
        announced, announced_in_runs = tag_sets(expected["outbox"]), tag_sets(found["outbox"])
        assert set(announced_in_runs) == set(announced)
        for customer_id, changes in announced.items():
            assert coalesces(changes, announced_in_runs[customer_id]), customer_id
        assert len(found["outbox"]) <= len(expected["outbox"])


def views_of(customers: list[str], first: int, count: int) -> list[dict[str, Any]]:
    """``count`` views per customer, a minute apart from minute ``first``, customers taking
    turns (as a partition mixes them)."""
    return [
        viewed(customer_id, T0 + n * MINUTE)
        for n in range(first, first + count)
        for customer_id in customers
    ]


async def test_runs_of_one_partition_leave_what_one_transaction_per_event_leaves(
    tmp_path: Path,
) -> None:
    """Runs as the consumer makes them (one topic, customers mixed): where no customer changes
    twice in a run, state and announcements are the same, to the moment a tag was added."""
    customers = [new_id("c") for _ in range(3)]
    orders = {customer_id: new_id("o") for customer_id in customers}
    clock = FixedClock(T0 + timedelta(days=1))
    async with twin_services(tmp_path, clock) as (one_by_one, runs):
        for run in (
            views_of(customers, 0, 4),  # not yet browsing
            views_of(customers, 4, 1),  # browsing_never_bought with the fifth view
            [placed(c, orders[c], T0 + 10 * MINUTE) for c in customers],
            [refunded(c, orders[c], T0 + 11 * MINUTE) for c in customers],
            views_of(customers, 12, 6),
            views_of(customers, 18, 1),  # appliance_intent with the twelfth
        ):
            await one_by_one.deliver_each(*run)
            await runs.deliver(*run)
        expected = await snapshot(one_by_one)
        assert len(expected["outbox"]) >= 3 * len(customers)
        assert await snapshot(runs) == expected


async def test_a_customer_is_evaluated_once_per_run_and_announced_at_most_once(
    tmp_path: Path,
) -> None:
    customer_id = new_id("c")
    views = [viewed(customer_id, T0 + n * MINUTE) for n in range(12)]
    async with service_harness("profile", tmp_path, clock=FixedClock(T0)) as profile:
        assert await profile.deliver(*views) == ["handled"] * 12
        (announced,) = await profile.published("profile.tagged")
        assert announced.data["added"] == ["appliance_intent", "browsing_never_bought"]
        assert announced.time == T0 + 11 * MINUTE
        body = (await profile.client.get(f"/v1/customers/{customer_id}")).json()
        assert body["tags_as_of"].startswith((T0 + 11 * MINUTE).isoformat()[:19])
        assert body["activity"]["views_30d"] == 12


async def test_a_run_is_evaluated_as_of_its_latest_event_even_out_of_time_order(
    tmp_path: Path,
) -> None:
    """A late event in a run never turns the evaluation back to its own time."""
    customer_id = new_id("c")
    views = [viewed(customer_id, T0 + n * MINUTE) for n in range(12)]
    async with service_harness("profile", tmp_path, clock=FixedClock(T0)) as profile:
        await profile.deliver(*views[:10])
        await profile.deliver(views[11], views[10])  # the twelfth arrives before the eleventh
        body = (await profile.client.get(f"/v1/customers/{customer_id}")).json()
        assert "appliance_intent" in body["tags"]
        assert body["tags_as_of"].startswith((T0 + 11 * MINUTE).isoformat()[:19])


async def test_duplicates_in_a_run_count_once(tmp_path: Path) -> None:
    customer_id, order_id, ticket_id = new_id("c"), new_id("o"), new_id("t")
    view = viewed(customer_id, T0)
    order = placed(customer_id, order_id, T0 + MINUTE)
    again = placed(customer_id, order_id, T0 + 2 * MINUTE)  # republished under a new event id
    opened = ticket_opened(customer_id, ticket_id, T0 + 3 * MINUTE)
    opened_again = ticket_opened(customer_id, ticket_id, T0 + 4 * MINUTE)
    async with service_harness("profile", tmp_path, clock=FixedClock(T0)) as profile:
        outcomes = await profile.deliver(view, view, order, again, order, opened, opened_again)
        assert (
            outcomes
            == ["handled", "duplicate", "handled", "handled", "duplicate"] + ["handled"] * 2
        )
        body = (await profile.client.get(f"/v1/customers/{customer_id}")).json()
        activity = body["activity"]
        assert (activity["views_30d"], activity["lifetime_orders"]) == (1, 1)
        assert (activity["orders_365d"], activity["spend_365d"]) == (1, "200.00")
        assert (body["open_tickets"], activity["inquiries_30d"]) == (1, 1)


async def test_mixed_customers_in_one_run_are_each_their_own(tmp_path: Path) -> None:
    browsing, buying, new = new_id("c"), new_id("c"), new_id("c")
    async with service_harness("profile", tmp_path, clock=FixedClock(T0)) as profile:
        await profile.deliver_each(*[viewed(browsing, T0 + n * MINUTE) for n in range(4)])
        await profile.deliver(
            placed(buying, new_id("o"), T0 + 5 * MINUTE),
            placed(new, new_id("o"), T0 + 6 * MINUTE),
            placed(buying, new_id("o"), T0 + 7 * MINUTE),
        )
        await profile.deliver(viewed(browsing, T0 + 8 * MINUTE), viewed(new, T0 + 9 * MINUTE))
        tagged = {e.subject: e.data["tags"] for e in await profile.published("profile.tagged")}
        assert "browsing_never_bought" in tagged[browsing]
        assert {"repeat_buyer", "repeat_customer"} <= set(tagged[buying])
        assert "first_time_buyer" in tagged[new]
        bodies = {
            c: (await profile.client.get(f"/v1/customers/{c}")).json()
            for c in (browsing, buying, new)
        }
        assert [bodies[c]["activity"]["lifetime_orders"] for c in (browsing, buying, new)] == [
            0,
            2,
            1,
        ]
        assert bodies[new]["tags_as_of"].startswith((T0 + 9 * MINUTE).isoformat()[:19])
        assert bodies[buying]["tags_as_of"].startswith((T0 + 7 * MINUTE).isoformat()[:19])


@contextmanager
def statements_of(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs (an executemany counts once)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_run_reads_each_table_once_and_writes_each_once(tmp_path: Path) -> None:
    customers = [new_id("c") for _ in range(3)]
    known = [viewed(customer_id, T0) for customer_id in customers]
    views = views_of([*customers, new_id("c")], 1, 2)
    async with service_harness("profile", tmp_path, clock=FixedClock(T0)) as profile:
        await profile.deliver_each(*known)

        with statements_of(profile.runtime.engine) as sent:
            assert await profile.deliver(*views) == ["handled"] * len(views)

        # The inbox claim, one read of the run's customers, then one INSERT of the customer
        # first heard of and one UPDATE (executemany) of the others.
        assert sent == ["BEGIN", "INSERT", "SELECT", "INSERT", "UPDATE"]


async def test_a_mixed_run_reads_and_writes_its_customers_once_and_announces_once(
    tmp_path: Path,
) -> None:
    """A fetched batch of several topics is one transaction: its handlers share the run, so a
    customer who browses, buys and gets a new tier in it is evaluated and written once."""
    customer_id, order_id = new_id("c"), new_id("o")
    mixed = [
        *[viewed(customer_id, T0 + n * MINUTE) for n in range(6)],
        placed(customer_id, order_id, T0 + 6 * MINUTE),
        tier_changed(customer_id, "bronze", "silver", T0 + 7 * MINUTE),
    ]
    async with service_harness("profile", tmp_path, clock=FixedClock(T0)) as profile:
        await profile.deliver(viewed(customer_id, T0 - MINUTE))
        await profile.forget_published()
        with statements_of(profile.runtime.engine) as sent:
            assert await profile.deliver(*mixed) == ["handled"] * len(mixed)
        (announced,) = await profile.published("profile.tagged")
        assert announced.time == T0 + 7 * MINUTE
        # One read of the customer (and one of the order named); one UPDATE of the customer.
        assert sent.count("UPDATE") == 1
        assert sent.count("SELECT") == 2
        body = (await profile.client.get(f"/v1/customers/{customer_id}")).json()
        assert (body["tier"], body["activity"]["lifetime_orders"]) == ("silver", 1)
        assert body["activity"]["views_30d"] == 7


async def test_the_360_is_one_primary_key_read(tmp_path: Path) -> None:
    customer_id = new_id("c")
    async with service_harness("profile", tmp_path, clock=FixedClock(T0)) as profile:
        await profile.deliver(viewed(customer_id, T0))
        with statements_of(profile.runtime.engine) as sent:
            response = await profile.client.get(f"/v1/customers/{customer_id}")
        assert response.status_code == 200
        assert sent.count("SELECT") == 1
        assert not {"INSERT", "UPDATE", "DELETE"} & set(sent)
