"""Profile's event handlers: lock the customer, apply the event, record the fact, re-tag.

Every fact is stamped with the event's ``time``, its business time. The handlers of a run keep
the rows they read in hand (``repository/in_hand.py``), so the consumer's transactions do not
autoflush: the commit writes a run's changes together.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from services.profile.context import ProfileContext
from services.profile.repository import customers, facts, tags
from services.profile.rules import customer as c
from services.profile.rules import facts as f
from services.profile.rules.customer import CustomerProfile
from services.profile.rules.facts import FactUpdate
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
)
from shared.events.envelope import TypedEvent
from shared.subscriptions import Subscriptions
from shared.transaction import Transaction

subscriptions = Subscriptions[ProfileContext](
    "profile", publishes=(ProfileTagged, CustomerErased), autoflush=False
)


async def profile_customer(
    tx: Transaction,
    ctx: ProfileContext,
    profile: CustomerProfile,
    at: datetime,
    update: FactUpdate | None = None,
) -> None:
    """Save the (locked) profile after applying ``update`` to the customer's facts and
    re-evaluating their tags as of ``at``; a change of tags is announced with profile.tagged.
    An erased customer is no longer profiled: no facts are recorded and no tag is set."""
    if not profile.erased:
        now = c.evaluation_moment(profile, at)
        known = await facts.load_facts(tx, profile.customer_id)
        if update is not None:
            known = update(known, now=now)
            await facts.save_facts(tx, profile.customer_id, known, now)
        current = await tags.tag_names(tx, profile.customer_id)
        profile, change = ctx.tagging.retag(profile, known, current, now)
        if change is not None:
            await tags.apply_tag_change(tx, profile.customer_id, change, now)
            await tx.outbox.publish(ctx.tagging.announcement(profile.customer_id, change), time=now)
    customers.save_profile(tx, profile)


@subscriptions.on(CustomerRegistered)
async def on_customer_registered(
    event: TypedEvent[CustomerRegistered], tx: Transaction, ctx: ProfileContext
) -> None:
    profile = await customers.profile_for_event(tx, event.data.customer_id, event.time)
    await profile_customer(tx, ctx, c.registered(profile, event.data, event.time), event.time)


@subscriptions.on(CustomerUpdated)
async def on_customer_updated(
    event: TypedEvent[CustomerUpdated], tx: Transaction, ctx: ProfileContext
) -> None:
    profile = await customers.profile_for_event(tx, event.data.customer_id, event.time)
    await profile_customer(tx, ctx, c.updated(profile, event.data, event.time), event.time)


@subscriptions.on(OrderPlaced)
async def on_order_placed(
    event: TypedEvent[OrderPlaced], tx: Transaction, ctx: ProfileContext
) -> None:
    data = event.data
    items = [(item.category, item.quantity, item.unit_price) for item in data.items]
    order = f.order_fact(data.order_id, event.time, data.amount, items, data.channel)
    profile = await customers.profile_for_event(tx, data.customer_id, event.time)
    await profile_customer(tx, ctx, profile, event.time, partial(f.with_order, order=order))


@subscriptions.on(OrderRefunded)
async def on_order_refunded(
    event: TypedEvent[OrderRefunded], tx: Transaction, ctx: ProfileContext
) -> None:
    data = event.data
    refund = f.RefundFact(data.order_id, event.time, data.amount, data.reason)
    profile = await customers.profile_for_event(tx, data.customer_id, event.time)
    await profile_customer(tx, ctx, profile, event.time, partial(f.with_refund, refund=refund))


@subscriptions.on(ProductViewed)
async def on_product_viewed(
    event: TypedEvent[ProductViewed], tx: Transaction, ctx: ProfileContext
) -> None:
    view = partial(f.with_view, category=event.data.category, at=event.time)
    profile = await customers.profile_for_event(tx, event.data.customer_id, event.time)
    await profile_customer(tx, ctx, profile, event.time, view)


@subscriptions.on(ReviewPosted)
async def on_review_posted(
    event: TypedEvent[ReviewPosted], tx: Transaction, ctx: ProfileContext
) -> None:
    review = f.ReviewFact(event.time, event.data.rating)
    profile = await customers.profile_for_event(tx, event.data.customer_id, event.time)
    await profile_customer(tx, ctx, profile, event.time, partial(f.with_review, review=review))


@subscriptions.on(TicketOpened)
async def on_ticket_opened(
    event: TypedEvent[TicketOpened], tx: Transaction, ctx: ProfileContext
) -> None:
    data = event.data
    ticket = f.TicketFact(data.ticket_id, event.time, data.kind, data.category)
    profile = await customers.profile_for_event(
        tx, data.customer_id, event.time, ticket_id=data.ticket_id
    )
    status = await customers.ticket_status(tx, data.ticket_id)
    status, opened = c.ticket_opened(status, event.time)
    customers.save_ticket_status(tx, data.customer_id, data.ticket_id, status)
    profile = c.with_open_tickets(profile, opened)
    await profile_customer(tx, ctx, profile, event.time, partial(f.with_ticket, ticket=ticket))


@subscriptions.on(TicketResolved)
async def on_ticket_resolved(
    event: TypedEvent[TicketResolved], tx: Transaction, ctx: ProfileContext
) -> None:
    data = event.data
    resolution = f.ResolutionFact(data.ticket_id, event.time, data.csat)
    profile = await customers.profile_for_event(
        tx, data.customer_id, event.time, ticket_id=data.ticket_id
    )
    status = await customers.ticket_status(tx, data.ticket_id)
    status, closed = c.ticket_resolved(status, event.time)
    customers.save_ticket_status(tx, data.customer_id, data.ticket_id, status)
    profile = c.with_open_tickets(profile, closed)
    update = partial(f.with_resolution, resolution=resolution)
    await profile_customer(tx, ctx, profile, event.time, update)


@subscriptions.on(ComplaintOpened)
async def on_complaint_opened(
    event: TypedEvent[ComplaintOpened], tx: Transaction, ctx: ProfileContext
) -> None:
    data = event.data
    complaint = f.ComplaintFact(data.ticket_id, event.time, data.category)
    profile = await customers.profile_for_event(tx, data.customer_id, event.time)
    update = partial(f.with_complaint, complaint=complaint)
    await profile_customer(tx, ctx, profile, event.time, update)


@subscriptions.on(TierChanged)
async def on_tier_changed(
    event: TypedEvent[TierChanged], tx: Transaction, ctx: ProfileContext
) -> None:
    profile = await customers.profile_for_event(tx, event.data.customer_id, event.time)
    profile = c.with_tier(profile, event.data.new_tier, event.time)
    await profile_customer(tx, ctx, profile, event.time)


@subscriptions.on(SegmentChanged)
async def on_segment_changed(
    event: TypedEvent[SegmentChanged], tx: Transaction, ctx: ProfileContext
) -> None:
    profile = await customers.profile_for_event(tx, event.data.customer_id, event.time)
    profile = c.with_segment(profile, event.data.new_segment, event.time)
    await profile_customer(tx, ctx, profile, event.time)


@subscriptions.on(SilenceStarted)
async def on_silence_started(
    event: TypedEvent[SilenceStarted], tx: Transaction, ctx: ProfileContext
) -> None:
    data = event.data
    profile = await customers.profile_for_event(tx, data.customer_id, event.time)
    profile = c.with_silence(profile, data.until, data.reason)
    await profile_customer(tx, ctx, profile, event.time)
