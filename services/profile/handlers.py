"""Profile's event handlers: every event type is handled a run at a time.

Each handler turns its events into changes of a ``Run`` (``commands/profiling.py``): the
run's customers are read at once, changed in event order, evaluated once each and written
back in sets. Every fact is stamped with the event's ``time``, its business time.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from services.profile.commands.profiling import Run
from services.profile.context import ProfileContext
from services.profile.rules import customer as c
from services.profile.rules import facts as f
from shared.events.catalogue import (
    ComplaintOpened,
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
    OrderPlaced,
    OrderRefunded,
    ProductViewed,
    ProfileTagged,
    ReviewPosted,
    SegmentChanged,
    SilenceStarted,
    TicketOpened,
    TicketResolved,
    TierChanged,
    reading,
)
from shared.events.envelope import TypedEvent
from shared.subscriptions import Subscriptions
from shared.transaction import Transaction

subscriptions = Subscriptions[ProfileContext]("profile", publishes=(ProfileTagged, CustomerErased))


@subscriptions.on_batch(CustomerRegistered)
async def on_customers_registered(
    events: Sequence[TypedEvent[CustomerRegistered]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events)
    for event in events:
        registered = partial(c.registered, data=event.data, at=event.time)
        run.change_profile(event.data.customer_id, event.time, registered)


@subscriptions.on_batch(CustomerUpdated)
async def on_customers_updated(
    events: Sequence[TypedEvent[CustomerUpdated]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events)
    for event in events:
        updated = partial(c.updated, data=event.data, at=event.time)
        run.change_profile(event.data.customer_id, event.time, updated)


@subscriptions.on_batch(ProductViewed)
async def on_products_viewed(
    events: Sequence[TypedEvent[ProductViewed]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events)
    for event in events:
        view = partial(f.with_view, category=event.data.category, at=event.time)
        run.record(event.data.customer_id, event.time, view)


@subscriptions.on_batch(OrderPlaced)
async def on_orders_placed(
    events: Sequence[TypedEvent[OrderPlaced]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events, order_ids=(e.data.order_id for e in events))
    for event in events:
        data = event.data
        items = [(item.category, item.quantity, item.unit_price) for item in data.items]
        order = f.order_fact(data.order_id, event.time, data.amount, items, data.channel)
        run.record(data.customer_id, event.time, partial(f.with_order, order=order))


@subscriptions.on_batch(OrderRefunded)
async def on_orders_refunded(
    events: Sequence[TypedEvent[OrderRefunded]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events, order_ids=(e.data.order_id for e in events))
    for event in events:
        data = event.data
        refund = f.RefundFact(data.order_id, event.time, data.amount, data.reason)
        run.record(data.customer_id, event.time, partial(f.with_refund, refund=refund))


@subscriptions.on_batch(ReviewPosted)
async def on_reviews_posted(
    events: Sequence[TypedEvent[ReviewPosted]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events)
    for event in events:
        review = f.ReviewFact(event.time, event.data.rating)
        run.record(event.data.customer_id, event.time, partial(f.with_review, review=review))


@subscriptions.on_batch(TicketOpened)
async def on_tickets_opened(
    events: Sequence[TypedEvent[TicketOpened]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events, ticket_ids=(e.data.ticket_id for e in events))
    for event in events:
        data = event.data
        status = run.ticket(data.ticket_id)
        opened_status, opened = c.ticket_opened(status, event.time)
        run.set_ticket(data.customer_id, data.ticket_id, opened_status)
        run.change_profile(
            data.customer_id, event.time, partial(c.with_open_tickets, change=opened)
        )
        if c.first_opening(status):
            ticket = f.TicketFact(data.ticket_id, event.time, data.kind, data.category)
            run.record(data.customer_id, event.time, partial(f.with_ticket, ticket=ticket))


@subscriptions.on_batch(TicketResolved)
async def on_tickets_resolved(
    events: Sequence[TypedEvent[TicketResolved]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events, ticket_ids=(e.data.ticket_id for e in events))
    for event in events:
        data = event.data
        status = run.ticket(data.ticket_id)
        resolved_status, closed = c.ticket_resolved(status, event.time)
        run.set_ticket(data.customer_id, data.ticket_id, resolved_status)
        run.change_profile(
            data.customer_id, event.time, partial(c.with_open_tickets, change=closed)
        )
        if c.first_resolution(status):
            resolution = f.ResolutionFact(data.ticket_id, event.time, data.csat)
            update = partial(f.with_resolution, resolution=resolution)
            run.record(data.customer_id, event.time, update)


@subscriptions.on_batch(ComplaintOpened)
async def on_complaints_opened(
    events: Sequence[TypedEvent[ComplaintOpened]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events, ticket_ids=(e.data.ticket_id for e in events))
    for event in events:
        data = event.data
        status, counts = c.complaint_opened(run.ticket(data.ticket_id), event.time)
        run.set_ticket(data.customer_id, data.ticket_id, status)
        complaint = f.ComplaintFact(data.ticket_id, event.time, data.category)
        update = partial(f.with_complaint, complaint=complaint) if counts else None
        run.record(data.customer_id, event.time, update)


@subscriptions.on_batch(reading(TierChanged, "new_tier"))
async def on_tiers_changed(
    events: Sequence[TypedEvent[TierChanged]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events)
    for event in events:
        tier = partial(c.with_tier, tier=event.data.new_tier, at=event.time)
        run.change_profile(event.data.customer_id, event.time, tier)


@subscriptions.on_batch(SegmentChanged)
async def on_segments_changed(
    events: Sequence[TypedEvent[SegmentChanged]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, ())
    for event in events:
        run.change_segment(event.data.customer_id, event.time, event.data.new_segment)


@subscriptions.on_batch(SilenceStarted)
async def on_silences_started(
    events: Sequence[TypedEvent[SilenceStarted]], tx: Transaction, ctx: ProfileContext
) -> None:
    run = await Run.of(tx, ctx, events)
    for event in events:
        silence = partial(c.with_silence, until=event.data.until, reason=event.data.reason)
        run.change_profile(event.data.customer_id, event.time, silence)
