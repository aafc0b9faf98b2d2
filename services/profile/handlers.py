"""Profile's event handlers: load the customer, record the fact, re-evaluate the tags.

Every fact is stamped with the event's ``time``, its business time.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import facts as f
from services.profile import store
from services.profile.models import Customer
from services.profile.profiling import Profiler
from shared.events.catalogue import (
    ComplaintOpened,
    CustomerRegistered,
    CustomerUpdated,
    OrderPlaced,
    OrderRefunded,
    ProductViewed,
    ReviewPosted,
    SegmentChanged,
    SilenceStarted,
    TicketOpened,
    TicketResolved,
    TierChanged,
)
from shared.events.envelope import TypedEvent
from shared.messaging.consumer import EventHandler

PERSONAL_FIELDS = ("name", "email", "phone", "birthday")


def apply_profile_fields(customer: Customer, data: CustomerRegistered | CustomerUpdated) -> None:
    """Fields the event carries; an erased customer never gets personal data or consents back."""
    given = data.model_dump(exclude_unset=True, exclude={"customer_id"})
    if customer.erased_at is not None:
        given = {k: v for k, v in given.items() if k not in (*PERSONAL_FIELDS, "consents")}
    consents = given.pop("consents", None)
    for field, value in given.items():
        setattr(customer, field, value)
    if consents is not None:
        customer.consents = {**(customer.consents or {}), **consents}


async def on_customer_registered(
    session: AsyncSession, event: TypedEvent[CustomerRegistered], *, profiler: Profiler
) -> None:
    customer = await store.customer_for_event(session, event.data.customer_id, event.time)
    apply_profile_fields(customer, event.data)
    customer.registered_at = customer.registered_at or event.time
    customer.updated_at = max(customer.updated_at, event.time)
    await profiler.record(session, customer, event.time)


async def on_customer_updated(
    session: AsyncSession, event: TypedEvent[CustomerUpdated], *, profiler: Profiler
) -> None:
    customer = await store.customer_for_event(session, event.data.customer_id, event.time)
    apply_profile_fields(customer, event.data)
    customer.updated_at = max(customer.updated_at, event.time)
    await profiler.record(session, customer, event.time)


async def on_order_placed(
    session: AsyncSession, event: TypedEvent[OrderPlaced], *, profiler: Profiler
) -> None:
    data = event.data
    items = [(item.category, item.quantity, item.unit_price) for item in data.items]
    order = f.order_fact(data.order_id, event.time, data.amount, items, data.channel)
    customer = await store.customer_for_event(session, data.customer_id, event.time)
    await profiler.record(session, customer, event.time, partial(f.with_order, order=order))


async def on_order_refunded(
    session: AsyncSession, event: TypedEvent[OrderRefunded], *, profiler: Profiler
) -> None:
    data = event.data
    refund = f.RefundFact(data.order_id, event.time, data.amount, data.reason)
    customer = await store.customer_for_event(session, data.customer_id, event.time)
    await profiler.record(session, customer, event.time, partial(f.with_refund, refund=refund))


async def on_product_viewed(
    session: AsyncSession, event: TypedEvent[ProductViewed], *, profiler: Profiler
) -> None:
    data = event.data
    view = partial(f.with_view, category=data.category, at=event.time)
    customer = await store.customer_for_event(session, data.customer_id, event.time)
    await profiler.record(session, customer, event.time, view)


async def on_review_posted(
    session: AsyncSession, event: TypedEvent[ReviewPosted], *, profiler: Profiler
) -> None:
    review = f.ReviewFact(event.time, event.data.rating)
    customer = await store.customer_for_event(session, event.data.customer_id, event.time)
    await profiler.record(session, customer, event.time, partial(f.with_review, review=review))


async def on_ticket_opened(
    session: AsyncSession, event: TypedEvent[TicketOpened], *, profiler: Profiler
) -> None:
    data = event.data
    ticket = f.TicketFact(data.ticket_id, event.time, data.kind, data.category)
    customer = await store.customer_for_event(
        session, data.customer_id, event.time, ticket_id=data.ticket_id
    )
    opened = await store.mark_ticket_opened(session, data.customer_id, data.ticket_id, event.time)
    customer.open_tickets = (customer.open_tickets or 0) + opened
    await profiler.record(session, customer, event.time, partial(f.with_ticket, ticket=ticket))


async def on_ticket_resolved(
    session: AsyncSession, event: TypedEvent[TicketResolved], *, profiler: Profiler
) -> None:
    data = event.data
    resolution = f.ResolutionFact(data.ticket_id, event.time, data.csat)
    customer = await store.customer_for_event(
        session, data.customer_id, event.time, ticket_id=data.ticket_id
    )
    closed = await store.mark_ticket_resolved(session, data.customer_id, data.ticket_id, event.time)
    customer.open_tickets = max(0, (customer.open_tickets or 0) + closed)
    update = partial(f.with_resolution, resolution=resolution)
    await profiler.record(session, customer, event.time, update)


async def on_complaint_opened(
    session: AsyncSession, event: TypedEvent[ComplaintOpened], *, profiler: Profiler
) -> None:
    data = event.data
    complaint = f.ComplaintFact(data.ticket_id, event.time, data.category)
    customer = await store.customer_for_event(session, data.customer_id, event.time)
    update = partial(f.with_complaint, complaint=complaint)
    await profiler.record(session, customer, event.time, update)


async def on_tier_changed(
    session: AsyncSession, event: TypedEvent[TierChanged], *, profiler: Profiler
) -> None:
    customer = await store.customer_for_event(session, event.data.customer_id, event.time)
    if customer.tier_since is None or event.time >= customer.tier_since:
        customer.tier, customer.tier_since = event.data.new_tier, event.time
    await profiler.record(session, customer, event.time)


async def on_segment_changed(
    session: AsyncSession, event: TypedEvent[SegmentChanged], *, profiler: Profiler
) -> None:
    customer = await store.customer_for_event(session, event.data.customer_id, event.time)
    if customer.segment_since is None or event.time >= customer.segment_since:
        customer.segment, customer.segment_since = event.data.new_segment, event.time
    await profiler.record(session, customer, event.time)


async def on_silence_started(
    session: AsyncSession, event: TypedEvent[SilenceStarted], *, profiler: Profiler
) -> None:
    # A later complaint extends a silence and never shortens it: keep the furthest end.
    customer = await store.customer_for_event(session, event.data.customer_id, event.time)
    if customer.silenced_until is None or event.data.until > customer.silenced_until:
        customer.silenced_until, customer.silence_reason = event.data.until, event.data.reason
    await profiler.record(session, customer, event.time)


def event_handlers(profiler: Profiler) -> dict[str, EventHandler]:
    handlers: dict[str, Any] = {
        "customer.registered": on_customer_registered,
        "customer.updated": on_customer_updated,
        "order.placed": on_order_placed,
        "order.refunded": on_order_refunded,
        "product.viewed": on_product_viewed,
        "review.posted": on_review_posted,
        "ticket.opened": on_ticket_opened,
        "ticket.resolved": on_ticket_resolved,
        "complaint.opened": on_complaint_opened,
        "tier.changed": on_tier_changed,
        "segment.changed": on_segment_changed,
        "silence.started": on_silence_started,
    }
    return {topic: partial(handler, profiler=profiler) for topic, handler in handlers.items()}
