"""The consumer applies a run of a partition's events in one transaction: the run must leave
exactly what the same events leave one transaction each, while reading each customer once and
writing their changes once, at the commit."""

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
    "customer_features": "customer_id",
    "customer_tags": "customer_id, tag",
    "ticket_states": "ticket_id",
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


async def snapshot(svc: ServiceHarness) -> dict[str, list[Any]]:
    """Every profile row, and the outbox's events without their random ids, in order."""
    found: dict[str, list[Any]] = {}
    async with svc.runtime.engine.connect() as connection:
        for table, order in PROFILE_TABLES.items():
            rows = await connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
            found[table] = [dict(row) for row in rows.mappings()]
        events = await connection.execute(
            select(outbox.c.topic, outbox.c.payload).order_by(outbox.c.seq)
        )
        found["outbox"] = [(topic, _without_id(payload)) for topic, payload in events]
    return found


def _without_id(payload: str) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(payload)
    envelope.pop("id")
    return envelope


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

        expected = await snapshot(one_by_one)
        assert len(expected["customer_tags"]) > 3
        assert len(expected["outbox"]) > 5
        assert await snapshot(runs) == expected


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


async def test_a_run_reads_each_customer_once_and_writes_their_changes_at_the_commit(
    tmp_path: Path,
) -> None:
    customers = [new_id("c") for _ in range(3)]
    known = [viewed(customer_id, T0) for customer_id in customers]
    views = [viewed(customer_id, T0 + n * MINUTE) for n in range(1, 3) for customer_id in customers]
    async with service_harness("profile", tmp_path, clock=FixedClock(T0)) as profile:
        await profile.deliver_each(*known)

        with statements_of(profile.runtime.engine) as sent:
            assert await profile.deliver(*views) == ["handled"] * len(views)
        async with profile.transaction() as tx:
            assert tx.session.autoflush, "autoflush is off for the consumer's transactions only"

        # One statement per customer reads the customer, their facts and their tags; the
        # commit writes their changes with one executemany per table.
        assert sent.count("SELECT") == len(customers)
        assert sent.count("UPDATE") == len({"customers", "customer_features"})
