"""Segmentation's event handlers: record the fact, then re-evaluate the customer's segment.

Every handler runs in the consumer's transaction, after the inbox check. Facts are keyed by
their own ids too (order id, ticket id), so the same order republished under a new event id
still counts once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.evaluation import Segmenter
from services.segmentation.models import (
    CustomerComplaint,
    CustomerOrder,
    Erasure,
    SegmentMember,
    to_fen,
)
from shared.clock import Clock
from shared.events.catalogue import (
    ComplaintOpened,
    CustomerErased,
    OrderPlaced,
    OrderRefunded,
    ProfileTagged,
)
from shared.events.envelope import TypedEvent
from shared.messaging.consumer import EventHandler

Recorder = Callable[[AsyncSession, SegmentMember, TypedEvent[Any]], Awaitable[None]]


async def record_order_placed(
    session: AsyncSession, member: SegmentMember, event: TypedEvent[OrderPlaced]
) -> None:
    order = await _order(session, member.customer_id, event.data.order_id)
    if order.placed_at is None:
        order.placed_at = event.time
        order.amount_fen = to_fen(event.data.amount)


async def record_order_refunded(
    session: AsyncSession, member: SegmentMember, event: TypedEvent[OrderRefunded]
) -> None:
    # Several refunds against one order add up (partial refunds); a refund may arrive first.
    order = await _order(session, member.customer_id, event.data.order_id)
    order.refunded_fen = (order.refunded_fen or 0) + to_fen(event.data.amount)


async def record_tags(
    session: AsyncSession, member: SegmentMember, event: TypedEvent[ProfileTagged]
) -> None:
    # `tags` is the full set as of the event's time: an older snapshot arriving late is ignored.
    # Only behaviour tags feed the segment rules; profile names them when it knows the group.
    if member.tags_as_of is None or event.time >= member.tags_as_of:
        tags = (
            event.data.behaviour_tags if event.data.behaviour_tags is not None else event.data.tags
        )
        member.tags = sorted(set(tags))
        member.tags_as_of = event.time


async def record_complaint(
    session: AsyncSession, member: SegmentMember, event: TypedEvent[ComplaintOpened]
) -> None:
    key = (member.customer_id, event.data.ticket_id)
    if await session.get(CustomerComplaint, key) is None:
        session.add(
            CustomerComplaint(
                customer_id=member.customer_id,
                ticket_id=event.data.ticket_id,
                opened_at=event.data.opened_at,
            )
        )


async def erase_customer(session: AsyncSession, event: TypedEvent[CustomerErased]) -> None:
    """Delete everything held about the customer; keep only the id and the time of erasure."""
    customer_id = event.data.customer_id
    for table in (CustomerOrder, CustomerComplaint, SegmentMember):
        await session.execute(delete(table).where(table.customer_id == customer_id))
    erasure = await session.get(Erasure, customer_id)
    if erasure is None:
        session.add(Erasure(customer_id=customer_id, erased_at=event.data.erased_at))
    else:
        erasure.erased_at = max(erasure.erased_at, event.data.erased_at)


async def _order(session: AsyncSession, customer_id: str, order_id: str) -> CustomerOrder:
    order = await session.get(CustomerOrder, (customer_id, order_id))
    if order is None:
        order = CustomerOrder(customer_id=customer_id, order_id=order_id, refunded_fen=0)
        session.add(order)
    return order


async def _erased_since(session: AsyncSession, customer_id: str, at: datetime) -> bool:
    erasure = await session.get(Erasure, customer_id)
    return erasure is not None and at <= erasure.erased_at


def event_handlers(segmenter: Segmenter, clock: Clock) -> dict[str, EventHandler]:
    def reevaluating(record: Recorder) -> EventHandler:
        async def handle(session: AsyncSession, event: TypedEvent[Any]) -> None:
            customer_id = event.data.customer_id
            if await _erased_since(session, customer_id, event.time):
                return
            member = await session.get(SegmentMember, customer_id)
            if member is None:
                # Added to the session by the segmenter once it has a segment.
                member = SegmentMember(customer_id=customer_id, tags=[])
            await record(session, member, event)
            # A late event changes the facts, but the segment is the customer's segment now.
            await segmenter.reevaluate(session, [member], max(event.time, clock.now()))

        return handle

    return {
        "order.placed": reevaluating(record_order_placed),
        "order.refunded": reevaluating(record_order_refunded),
        "profile.tagged": reevaluating(record_tags),
        "complaint.opened": reevaluating(record_complaint),
        "customer.erased": erase_customer,
    }
