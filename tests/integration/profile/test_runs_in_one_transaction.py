"""The consumer applies a run of a partition's events in one transaction: the run must leave
exactly what the same events leave one transaction each, while reading each customer once and
writing their changes once, at the commit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from tests.integration.profile.database import ProfileDatabase, profile_database, typed
from tests.integration.profile.helpers import (
    T0,
    complaint_opened,
    placed,
    refunded,
    registered,
    silence_started,
    ticket_opened,
    ticket_resolved,
    tier_changed,
    updated,
    viewed,
)
from tests.support.events import new_id

Databases = Callable[[str], AbstractAsyncContextManager[str]]
MINUTE = timedelta(minutes=1)


@asynccontextmanager
async def twin_databases(database: Databases) -> AsyncIterator[tuple[ProfileDatabase, ...]]:
    """Two fresh profile databases: one fed an event per transaction, one fed whole runs."""
    async with (
        database("profile_one_by_one") as one_url,
        database("profile_runs") as runs_url,
        profile_database(one_url) as one_by_one,
        profile_database(runs_url) as runs,
    ):
        yield one_by_one, runs


def first_run(browser: str, ticketed: str, left_open: str) -> list[dict[str, Any]]:
    """A new customer who browses, then buys (a tag added and dropped in the same run), and
    tickets resolved before they open, opened twice, and opened, resolved and opened again."""
    order_id, early, twice, first = new_id("o"), new_id("t"), new_id("t"), new_id("t")
    return [
        registered(browser, T0, name="Li Wei", consents={"email": True, "sms": False}),
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
        silence_started(browser, T0 + timedelta(days=3), T0 + 23 * MINUTE),
        complaint_opened(browser, new_id("t"), T0 + 24 * MINUTE),
        updated(browser, T0 + 25 * MINUTE, phone="+8613800000000", consents={"sms": True}),
        tier_changed(browser, "gold", "silver", T0 + 26 * MINUTE),
    ]


async def test_a_run_in_one_transaction_leaves_what_one_transaction_per_event_leaves(
    database: Databases,
) -> None:
    browser, ticketed, erased, left_open = new_id("c"), new_id("c"), new_id("c"), new_id("t")
    after_erasure = [
        viewed(erased, T0 + 30 * MINUTE),
        updated(erased, T0 + 31 * MINUTE, name="Li Wei"),
        ticket_opened(erased, new_id("t"), T0 + 32 * MINUTE),
        viewed(browser, T0 + 33 * MINUTE),
    ]
    async with twin_databases(database) as (one_by_one, runs):
        for run in (
            first_run(browser, ticketed, left_open),
            second_run(browser, ticketed, left_open),
            [registered(erased, T0), *[viewed(erased, T0 + n * MINUTE) for n in range(6)]],
        ):
            await one_by_one.apply_one_by_one(run)
            await runs.apply_run(run)
        for profile in (one_by_one, runs):
            await profile.erase(erased, T0 + 29 * MINUTE)
        await one_by_one.apply_one_by_one(after_erasure)
        await runs.apply_run(after_erasure)
        for profile in (one_by_one, runs):
            await profile.sweep(T0 + timedelta(days=40))

        expected = await one_by_one.snapshot()
        assert len(expected["customer_tags"]) > 3
        assert len(expected["outbox"]) > 5
        assert await runs.snapshot() == expected


@contextmanager
def statements_of(profile: ProfileDatabase) -> Iterator[list[str]]:
    """The SQL statements sent while the block runs (an executemany counts once)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    event.listen(profile.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(profile.engine.sync_engine, "before_cursor_execute", record)


async def test_a_run_reads_each_customer_once_and_writes_their_changes_at_the_commit(
    database: Databases,
) -> None:
    customers = [new_id("c") for _ in range(3)]
    known = [viewed(customer_id, T0) for customer_id in customers]
    views = [viewed(customer_id, T0 + n * MINUTE) for n in range(1, 3) for customer_id in customers]
    async with database("profile") as url, profile_database(url) as profile:
        await profile.apply_one_by_one(known)

        async with profile.sessions() as session:
            with statements_of(profile) as sent:
                async with session.begin():
                    for view in map(typed, views):
                        await profile.handlers[view.type](session, view)
            assert session.autoflush, "autoflush is deferred for its transaction only"

        # One statement per customer reads the customer, their facts and their tags; the
        # commit writes their changes with one executemany per table.
        assert sent.count("SELECT") == len(customers)
        assert sent.count("UPDATE") == len({"customers", "customer_features"})
