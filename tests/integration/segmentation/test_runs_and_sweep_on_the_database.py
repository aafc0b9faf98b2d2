"""Segmentation's set-based statements on the real database (PostgreSQL when
``LOOPCRM_TEST_DATABASE_URL`` is set): a run equals one event per transaction, the sweep's
recency refresh equals the rule's, and the migration carries old rows forward."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from services.segmentation.models import SegmentMember
from services.segmentation.rules.reevaluation import refresh_recency
from shared.clock import FixedClock
from shared.db import create_engine
from shared.migrations import upgrade, upgrade_async
from tests.support import builders
from tests.support.builders import new_id
from tests.support.databases import fresh_database
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "segmentation" / "migrations"


async def members(svc: ServiceHarness) -> dict[str, Any]:
    async with svc.runtime.read() as session:
        rows = await session.execute(select(SegmentMember.__table__))
        return {row.customer_id: row for row in rows}


async def test_a_run_and_one_event_per_transaction_leave_the_same_rows(tmp_path: Path) -> None:
    customers = [new_id("c") for _ in range(6)]
    refunded, early, ticket = new_id("o"), new_id("o"), new_id("t")
    events = [
        builders.order_refunded(customers[3], early, amount="40", at=T0 - 2 * DAY),
        *[
            builders.order_placed(c, amount=f"{100 + 60 * n}", at=T0 - (n + 1) * DAY)
            for n, c in enumerate(customers)
        ],
        *[builders.order_placed(c, amount="250", at=T0 - DAY / 2) for c in customers[:3]],
        builders.order_placed(customers[0], amount="90", order_id=refunded, at=T0 - DAY / 3),
        builders.order_refunded(customers[0], refunded, amount="90", at=T0 - DAY / 4),
        builders.profile_tagged(customers[1], tags=["a", "b", "c"], at=T0 - DAY / 5),
        builders.complaint_opened(customers[2], ticket_id=ticket, at=T0 - DAY / 6),
        builders.complaint_opened(customers[2], ticket_id=ticket, at=T0 - DAY / 6),
        builders.order_placed(customers[3], amount="100", order_id=early, at=T0 - 3 * DAY),
        builders.order_placed(customers[3], amount="100", order_id=early, at=T0 - 3 * DAY),
    ]
    (tmp_path / "run").mkdir()
    (tmp_path / "each").mkdir()
    async with (
        service_harness(
            "segmentation", tmp_path / "run", clock=FixedClock(T0), on_server=True
        ) as run,
        service_harness(
            "segmentation", tmp_path / "each", clock=FixedClock(T0), on_server=True
        ) as each,
    ):
        assert await run.deliver(*events) == await each.deliver_each(*events)

        assert await members(run) == await members(each)
        in_run = await run.published("segment.changed")
        assert len(in_run) < len(await each.published("segment.changed"))  # coalesced


async def test_the_sweep_refreshes_settled_members_exactly_as_the_rule_does(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0)
    offsets = [
        timedelta(0),
        timedelta(microseconds=1),
        timedelta(hours=12),
        DAY - timedelta(microseconds=1),
    ]
    async with service_harness(
        "segmentation", tmp_path, clock=clock, on_server=True, sweep_batch_size=3
    ) as svc:
        orders = {new_id("c"): T0 - 2 * DAY - offset for offset in offsets}
        prospect = new_id("c")
        await svc.deliver(
            *[builders.order_placed(c, amount="80", at=at) for c, at in orders.items()],
            builders.profile_tagged(prospect, tags=["a"], at=T0),
        )
        clock.advance(3 * DAY)
        before = await members(svc)
        expected = {
            customer_id: refresh_recency(
                last_order_at=row.last_order_at,
                last_evaluated=row.evaluated_at,
                settled_until=row.settled_until,
                now=clock.now(),
            )
            for customer_id, row in before.items()
        }

        await svc.run_task("segment-sweep")

        after = await members(svc)
        for customer_id, refresh in expected.items():
            assert refresh is not None
            row = after[customer_id]
            assert (row.evaluated_at, row.recency_days, row.review_at) == (
                refresh.as_of,
                refresh.recency_days,
                refresh.review_at,
            )
            assert row.segment == before[customer_id].segment
        assert [after[c].recency_days for c in orders] == [5, 5, 5, 5]
        assert after[prospect].review_at == clock.now() + DAY


async def test_the_migration_carries_orders_and_complaints_into_the_figures() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="loopcrm-segmentation-migration-"))
    try:
        async with fresh_database(scratch, "segmentation_migration") as url:
            await upgrade_async_to(url, "0001")
            customer = new_id("c")
            evaluated = T0
            engine = create_engine(url)
            try:
                async with engine.begin() as connection:
                    await connection.execute(
                        text(
                            "INSERT INTO segment_members (customer_id, segment, segment_since, "
                            "recency_days, frequency, monetary_fen, evaluated_at, review_at, tags) "
                            "VALUES (:c, 'regular', :at, 10, 2, 30000, :at, :review, '[]')"
                        ),
                        {
                            "c": customer,
                            "at": _stored(url, evaluated),
                            "review": _stored(url, T0 + DAY),
                        },
                    )
                    for order_id, placed, amount, refunded in [
                        ("o-old", T0 - 400 * DAY, 50_000, 0),
                        ("o-kept", T0 - 10 * DAY, 20_000, 5_000),
                        ("o-gone", T0 - 5 * DAY, 15_000, 15_000),
                        ("o-early-refund", None, None, 1_000),
                    ]:
                        await connection.execute(
                            text(
                                "INSERT INTO customer_orders (customer_id, order_id, placed_at, "
                                "amount_fen, refunded_fen) VALUES (:c, :o, :p, :a, :r)"
                            ),
                            {
                                "c": customer,
                                "o": order_id,
                                "p": _stored(url, placed),
                                "a": amount,
                                "r": refunded,
                            },
                        )
                    await connection.execute(
                        text(
                            "INSERT INTO customer_complaints (customer_id, ticket_id, opened_at) "
                            "VALUES (:c, 't-1', :at), (:c, 't-2', :old)"
                        ),
                        {
                            "c": customer,
                            "at": _stored(url, T0 - 3 * DAY),
                            "old": _stored(url, T0 - 500 * DAY),
                        },
                    )
            finally:
                await engine.dispose()

            await upgrade_async(MIGRATIONS, url)

            engine = create_engine(url)
            try:
                async with engine.connect() as connection:
                    row = (
                        await connection.execute(
                            select(SegmentMember.__table__).where(
                                SegmentMember.customer_id == customer
                            )
                        )
                    ).one()
            finally:
                await engine.dispose()
            assert row.last_order_at == T0 - 10 * DAY
            assert row.recent_orders == [[(T0 - 10 * DAY).isoformat(), 15_000]]
            assert row.recent_complaints == [(T0 - 3 * DAY).isoformat()]
            assert row.monthly_net == {"2025-05": 50_000, "2026-06": 15_000}
            assert row.settled_until == evaluated
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


async def upgrade_async_to(url: str, revision: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, url, revision)


def _stored(url: str, at: datetime | None) -> Any:
    """A timestamp as the service stores it: naive UTC on SQLite."""
    if at is None or not url.startswith("sqlite"):
        return at
    return at.replace(tzinfo=None)
