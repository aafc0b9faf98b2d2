"""Segmentation handlers and sweep through the harness: facts, segments and published events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services.segmentation.models import CustomerComplaint, CustomerOrder, SegmentMember
from services.segmentation.tasks import SEGMENT_SWEEP, sweep_due_customers
from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    async with service_harness("segmentation", tmp_path, clock=FixedClock(T0)) as harness:
        yield harness


def placed(customer_id: str, amount: str, at: datetime, order_id: str | None = None) -> Any:
    return builders.order_placed(customer_id, amount=amount, order_id=order_id, at=at)


def refunded(customer_id: str, order_id: str, amount: str, at: datetime) -> Any:
    return builders.order_refunded(customer_id, order_id, amount=amount, at=at)


def tagged(customer_id: str, tags: list[str], at: datetime) -> Any:
    return builders.profile_tagged(customer_id, tags=tags, at=at)


def complained(customer_id: str, at: datetime) -> Any:
    return builders.complaint_opened(customer_id, category="quality", at=at)


def erased(customer_id: str, at: datetime) -> Any:
    return builders.customer_erased(customer_id, at=at)


async def member_of(svc: ServiceHarness, customer_id: str) -> SegmentMember | None:
    async with svc.transaction() as tx:
        return await tx.session.get(SegmentMember, customer_id)


async def sweep(svc: ServiceHarness, batch_size: int = 100) -> int:
    async with svc.transaction() as tx:
        return (await sweep_due_customers(tx, svc.context, batch_size=batch_size)).looked_at


async def segment_changes(svc: ServiceHarness, customer_id: str) -> list[tuple[Any, Any]]:
    return [
        (e.data["old_segment"], e.data["new_segment"])
        for e in await svc.published("segment.changed")
        if e.subject == customer_id
    ]


async def test_a_refund_that_arrives_before_its_order_is_netted_when_the_order_lands(
    svc: ServiceHarness,
) -> None:
    customer, order_id = new_id("c"), new_id("o")

    await svc.deliver(refunded(customer, order_id, "100", T0 - DAY))
    assert (await member_of(svc, customer)).segment == "prospect"  # type: ignore[union-attr]
    await svc.deliver(placed(customer, "600", T0 - 2 * DAY, order_id))

    member = await member_of(svc, customer)
    assert member is not None
    assert (member.frequency, member.monetary, member.recency_days) == (1, Decimal("500.00"), 2)
    assert await segment_changes(svc, customer) == [(None, "prospect"), ("prospect", "new")]


async def test_the_same_order_republished_under_a_new_event_id_counts_once(
    svc: ServiceHarness,
) -> None:
    customer, order_id = new_id("c"), new_id("o")

    outcomes = await svc.deliver(
        placed(customer, "80", T0, order_id), placed(customer, "80", T0, order_id)
    )

    assert outcomes == ["handled", "handled"]
    member = await member_of(svc, customer)
    assert member is not None and (member.frequency, member.monetary) == (1, Decimal("80.00"))


async def test_behaviour_tags_make_a_repeat_buyer_potential_and_a_stale_snapshot_is_ignored(
    svc: ServiceHarness,
) -> None:
    customer = new_id("c")
    await svc.deliver(placed(customer, "90", T0 - 10 * DAY), placed(customer, "90", T0 - 5 * DAY))
    assert (await member_of(svc, customer)).segment == "regular"  # type: ignore[union-attr]

    tags = ["appliance_intent", "bargain_hunter", "service_sensitive", "vip"]
    await svc.deliver(tagged(customer, tags, T0 - timedelta(hours=1)))
    await svc.deliver(tagged(customer, [], T0 - timedelta(hours=2)))

    member = await member_of(svc, customer)
    assert member is not None and member.segment == "potential"
    assert member.tags == sorted(tags)
    changed = (await svc.published("segment.changed"))[-1]
    assert changed.data == {
        "customer_id": customer,
        "old_segment": "regular",
        "new_segment": "potential",
        "rfm": {"recency_days": 5, "frequency": 2, "monetary": "180.00"},
    }
    assert changed.source == "loopcrm/segmentation"


async def test_a_snapshot_older_than_an_order_counted_waits_for_the_next_one(
    svc: ServiceHarness,
) -> None:
    """Browse, then buy twice: the snapshot profile took after the first order arrives after
    the second order was counted. Deciding on it would publish regular, then potential again."""
    customer, ms = new_id("c"), timedelta(milliseconds=1)
    browsing = ["appliance_intent", "heavy_browser", "window_shopper"]
    await svc.deliver(tagged(customer, browsing, T0 - 100 * ms))
    await svc.deliver(placed(customer, "90", T0 - 80 * ms))
    await svc.deliver(placed(customer, "90", T0 - 40 * ms))
    after_first = ["appliance_intent", "heavy_browser"]  # no longer a window shopper
    await svc.deliver(tagged(customer, after_first, T0 - 80 * ms))
    await svc.deliver(tagged(customer, [*after_first, "repeat_buyer"], T0 - 40 * ms))

    assert await segment_changes(svc, customer) == [
        (None, "prospect"),
        ("prospect", "new"),
        ("new", "potential"),
    ]

    # When profile's next snapshot never comes (its tags did not change), the sweep decides
    # on the tags held once the settle time has passed.
    other = new_id("c")
    await svc.deliver(tagged(other, browsing, T0 - 100 * ms))
    await svc.deliver(placed(other, "90", T0 - 80 * ms), placed(other, "90", T0 - 40 * ms))
    await svc.deliver(tagged(other, after_first, T0 - 80 * ms))
    assert (await member_of(svc, other)).segment == "potential"  # type: ignore[union-attr]
    await sweep(svc)
    assert (await member_of(svc, other)).segment == "potential"  # type: ignore[union-attr]
    svc.clock.advance(svc.context.tag_settle)
    await sweep(svc)
    member = await member_of(svc, other)
    assert member is not None and (member.segment, member.tags) == ("regular", after_first)


async def test_a_complaint_after_a_quiet_spell_moves_a_one_time_buyer_to_win_back(
    svc: ServiceHarness,
) -> None:
    customer = new_id("c")

    await svc.deliver(placed(customer, "300", T0 - 100 * DAY), complained(customer, T0))

    assert await segment_changes(svc, customer) == [(None, "regular"), ("regular", "win_back")]


async def test_erasure_deletes_the_customer_and_late_events_do_not_bring_them_back(
    svc: ServiceHarness,
) -> None:
    customer = new_id("c")
    await svc.deliver(placed(customer, "300", T0 - DAY), complained(customer, T0 - DAY))

    await svc.deliver(erased(customer, T0))
    await svc.deliver(placed(customer, "50", T0 - timedelta(hours=1)))

    assert await member_of(svc, customer) is None
    async with svc.transaction() as tx:
        for table in (CustomerOrder, CustomerComplaint):
            count = await tx.session.scalar(
                select(func.count()).select_from(table).where(table.customer_id == customer)
            )
            assert count == 0
    await svc.deliver(placed(customer, "70", T0 + DAY))
    member = await member_of(svc, customer)
    assert member is not None and (member.frequency, member.monetary) == (1, Decimal("70.00"))


async def test_churn_risk_is_published_once_per_falling_streak(svc: ServiceHarness) -> None:
    customer = new_id("c")
    clock = svc.clock
    assert isinstance(clock, FixedClock)

    async def order_in(month: int, amount: str) -> None:
        at = datetime(2026, month, 10, 4, tzinfo=UTC)
        clock.set(at)
        await svc.deliver(placed(customer, amount, at))

    async def sweep_on(month: int) -> list[dict[str, Any]]:
        clock.set(datetime(2026, month, 2, tzinfo=UTC))
        await svc.run_task(SEGMENT_SWEEP)
        return [alert.data for alert in await svc.published("churn_risk.detected")]

    for month, amount in [(1, "400"), (2, "300"), (3, "200"), (4, "100")]:
        await order_in(month, amount)
    assert await svc.published("churn_risk.detected") == []  # April is not complete yet

    expected = {
        "customer_id": customer,
        "reason": "monthly_spend_falling",
        "monthly_spend": ["400.00", "300.00", "200.00", "100.00"],
        "months": ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"],
    }
    assert await sweep_on(5) == [expected]
    assert await sweep_on(6) == [expected]  # May at 0 continues the same streak

    for month, amount in [(6, "900"), (7, "600"), (8, "300"), (9, "10")]:
        await order_in(month, amount)
    alerts = await sweep_on(10)
    assert [alert["months"][0] for alert in alerts] == ["2026-01-01", "2026-06-01"]


async def test_the_sweep_re_evaluates_due_customers_in_batches(svc: ServiceHarness) -> None:
    first, second = new_id("c"), new_id("c")
    await svc.deliver(placed(first, "100", T0 - DAY), placed(second, "100", T0 - DAY / 2))
    assert await sweep(svc) == 0

    clock = svc.clock
    assert isinstance(clock, FixedClock)
    clock.advance(181 * DAY)
    assert [await sweep(svc, batch_size=1) for _ in range(3)] == [1, 1, 0]

    for customer in (first, second):
        member = await member_of(svc, customer)
        assert member is not None and member.segment == "dormant"
        assert member.segment_since == T0 + 181 * DAY
        assert await segment_changes(svc, customer) == [(None, "new"), ("new", "dormant")]


async def test_the_sweep_task_works_through_every_due_set(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    async with service_harness("segmentation", tmp_path, clock=clock, sweep_batch_size=2) as svc:
        customers = [new_id("c") for _ in range(5)]
        await svc.deliver(*[placed(customer, "100", T0 - DAY) for customer in customers])

        clock.advance(181 * DAY)
        await svc.run_task(SEGMENT_SWEEP)

        for customer in customers:
            member = await member_of(svc, customer)
            assert member is not None and member.segment == "dormant"
