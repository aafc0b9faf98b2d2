"""Segmentation handlers and sweep on a real database: facts, segments and published events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from services.segmentation.models import CustomerComplaint, CustomerOrder
from shared.clock import FixedClock
from tests.integration.segmentation.store import SegmentationStore, segmentation_store, typed
from tests.support.events import new_id

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
async def store(
    database: Callable[[str], AbstractAsyncContextManager[str]],
) -> AsyncIterator[SegmentationStore]:
    async with database("segmentation") as url, segmentation_store(url, FixedClock(T0)) as opened:
        yield opened


def placed(customer_id: str, amount: str, at: datetime, order_id: str | None = None) -> Any:
    data = {"customer_id": customer_id, "order_id": order_id or new_id("o"), "amount": amount}
    return typed("order.placed", {**data, "currency": "CNY", "items": []}, time=at)


def refunded(customer_id: str, order_id: str, amount: str, at: datetime) -> Any:
    data = {"customer_id": customer_id, "order_id": order_id, "amount": amount, "reason": "other"}
    return typed("order.refunded", data, time=at)


def tagged(customer_id: str, tags: list[str], at: datetime) -> Any:
    data = {"customer_id": customer_id, "tags": tags}
    return typed("profile.tagged", data, time=at, source="loopcrm/profile")


def complained(customer_id: str, at: datetime) -> Any:
    data = {
        "customer_id": customer_id,
        "ticket_id": new_id("t"),
        "category": "quality",
        "opened_at": at.isoformat(),
    }
    return typed("complaint.opened", data, time=at, source="loopcrm/ticketing")


def erased(customer_id: str, at: datetime) -> Any:
    data = {"customer_id": customer_id, "erased_at": at.isoformat()}
    return typed("customer.erased", data, time=at, source="loopcrm/profile")


async def segment_changes(store: SegmentationStore, customer_id: str) -> list[tuple[Any, Any]]:
    events = await store.published("segment.changed")
    return [
        (e["data"]["old_segment"], e["data"]["new_segment"])
        for e in events
        if e["subject"] == customer_id
    ]


async def test_a_refund_that_arrives_before_its_order_is_netted_when_the_order_lands(
    store: SegmentationStore,
) -> None:
    customer, order_id = new_id("c"), new_id("o")

    await store.deliver(refunded(customer, order_id, "100", T0 - DAY))
    assert (await store.member(customer)).segment == "prospect"  # type: ignore[union-attr]
    await store.deliver(placed(customer, "600", T0 - 2 * DAY, order_id))

    member = await store.member(customer)
    assert member is not None
    assert (member.frequency, member.monetary, member.recency_days) == (1, Decimal("500.00"), 2)
    assert await segment_changes(store, customer) == [(None, "prospect"), ("prospect", "new")]


async def test_the_same_order_republished_under_a_new_event_id_counts_once(
    store: SegmentationStore,
) -> None:
    customer, order_id = new_id("c"), new_id("o")

    await store.deliver(placed(customer, "80", T0, order_id), placed(customer, "80", T0, order_id))

    member = await store.member(customer)
    assert member is not None and (member.frequency, member.monetary) == (1, Decimal("80.00"))


async def test_behaviour_tags_make_a_repeat_buyer_potential_and_a_stale_snapshot_is_ignored(
    store: SegmentationStore,
) -> None:
    customer = new_id("c")
    await store.deliver(placed(customer, "90", T0 - 10 * DAY), placed(customer, "90", T0 - 5 * DAY))
    assert (await store.member(customer)).segment == "regular"  # type: ignore[union-attr]

    tags = ["appliance_intent", "bargain_hunter", "service_sensitive", "vip"]
    await store.deliver(tagged(customer, tags, T0 - timedelta(hours=1)))
    await store.deliver(tagged(customer, [], T0 - timedelta(hours=2)))

    member = await store.member(customer)
    assert member is not None and member.segment == "potential"
    assert member.tags == sorted(tags)
    changed = (await store.published("segment.changed"))[-1]
    assert changed["data"] == {
        "customer_id": customer,
        "old_segment": "regular",
        "new_segment": "potential",
        "rfm": {"recency_days": 5, "frequency": 2, "monetary": "180.00"},
    }
    assert changed["source"] == "loopcrm/segmentation"


async def test_a_complaint_after_a_quiet_spell_moves_a_one_time_buyer_to_win_back(
    store: SegmentationStore,
) -> None:
    customer = new_id("c")

    await store.deliver(placed(customer, "300", T0 - 100 * DAY), complained(customer, T0))

    assert await segment_changes(store, customer) == [(None, "regular"), ("regular", "win_back")]


async def test_erasure_deletes_the_customer_and_late_events_do_not_bring_them_back(
    store: SegmentationStore,
) -> None:
    customer = new_id("c")
    await store.deliver(placed(customer, "300", T0 - DAY), complained(customer, T0 - DAY))

    await store.deliver(erased(customer, T0))
    await store.deliver(placed(customer, "50", T0 - timedelta(hours=1)))

    assert await store.member(customer) is None
    async with store.sessions() as session:
        for table in (CustomerOrder, CustomerComplaint):
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.customer_id == customer)
            )
            assert count == 0
    await store.deliver(placed(customer, "70", T0 + DAY))
    member = await store.member(customer)
    assert member is not None and (member.frequency, member.monetary) == (1, Decimal("70.00"))


async def test_churn_risk_is_published_once_per_falling_streak(store: SegmentationStore) -> None:
    customer = new_id("c")

    async def order_in(month: int, amount: str) -> None:
        at = datetime(2026, month, 10, 4, tzinfo=UTC)
        store.clock.set(at)
        await store.deliver(placed(customer, amount, at))

    async def sweep_on(month: int) -> list[dict[str, Any]]:
        store.clock.set(datetime(2026, month, 2, tzinfo=UTC))
        await store.sweep()
        return [alert["data"] for alert in await store.published("churn_risk.detected")]

    for month, amount in [(1, "400"), (2, "300"), (3, "200"), (4, "100")]:
        await order_in(month, amount)
    assert await store.published("churn_risk.detected") == []  # April is not complete yet

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


async def test_the_sweep_re_evaluates_due_customers_in_batches(store: SegmentationStore) -> None:
    first, second = new_id("c"), new_id("c")
    await store.deliver(placed(first, "100", T0 - DAY), placed(second, "100", T0 - DAY / 2))
    assert await store.sweep() == 0

    store.clock.advance(181 * DAY)
    assert [await store.sweep(batch_size=1) for _ in range(3)] == [1, 1, 0]

    for customer in (first, second):
        member = await store.member(customer)
        assert member is not None and member.segment == "dormant"
        assert member.segment_since == T0 + 181 * DAY
        assert await segment_changes(store, customer) == [(None, "new"), ("new", "dormant")]
