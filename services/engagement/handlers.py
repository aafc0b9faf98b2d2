"""Engagement's event handlers: keep the read model, silence on complaints, run triggers.

Each runs inside the consumer's transaction, after the inbox check; messages it decides to
send are recorded as pending and delivered by the delivery task right after the commit.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement import pipeline
from services.engagement.context import Engagement
from services.engagement.models import Customer, Message
from services.engagement.pipeline import MessageRequest
from services.engagement.rules import Outcome, Purpose, extend_silence, is_silenced
from shared.events.catalogue import (
    ComplaintOpened,
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
    ProfileTagged,
    SegmentChanged,
    SilenceStarted,
    TicketResolved,
)
from shared.events.envelope import TypedEvent, new_event
from shared.messaging.consumer import EventHandler
from shared.outbox import add_event

COMPLAINT = "complaint"
_CONTACT_FIELDS = ("email", "phone")


async def _get_or_create(session: AsyncSession, customer_id: str) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        customer = Customer(customer_id=customer_id, consents={}, field_times={}, tags=[])
        session.add(customer)
        await session.flush()
    return customer


def apply_newer(customer: Customer, given: dict[str, Any], at: datetime) -> None:
    """Set each given field ("email", "phone", "consent.<channel>") unless a newer event
    already set it: customer events travel on two topics and may arrive out of order."""
    times = dict(customer.field_times)
    consents = dict(customer.consents)
    for key, value in given.items():
        stored = times.get(key)
        if stored is not None and datetime.fromisoformat(stored) > at:
            continue
        times[key] = at.isoformat()
        if key.startswith("consent."):
            consents[key.removeprefix("consent.")] = bool(value)
        else:
            setattr(customer, key, value)
    customer.field_times = times
    customer.consents = consents


async def on_customer_changed(
    session: AsyncSession,
    event: TypedEvent[CustomerRegistered] | TypedEvent[CustomerUpdated],
    *,
    ctx: Engagement,
) -> None:
    customer = await _get_or_create(session, event.data.customer_id)
    if customer.erased_at is not None:
        return  # contact data and consents of an erased customer are never kept again
    data = event.data
    given: dict[str, Any] = {
        f: getattr(data, f) for f in _CONTACT_FIELDS if f in data.model_fields_set
    }
    if data.consents is not None:
        for channel, granted in data.consents.model_dump(exclude_unset=True).items():
            given[f"consent.{channel}"] = granted
    apply_newer(customer, given, event.time)


async def on_profile_tagged(
    session: AsyncSession, event: TypedEvent[ProfileTagged], *, ctx: Engagement
) -> None:
    customer = await _get_or_create(session, event.data.customer_id)
    if customer.tags_at is None or event.time >= customer.tags_at:
        customer.tags = sorted(set(event.data.tags))
        customer.tags_at = event.time


async def on_complaint_opened(
    session: AsyncSession, event: TypedEvent[ComplaintOpened], *, ctx: Engagement
) -> None:
    """Silence from the complaint's own business time (`opened_at`, which an imported,
    backdated complaint carries), then the one follow-up notice of this complaint."""
    now = ctx.clock.now()
    customer = await _get_or_create(session, event.data.customer_id)
    await _extend_silence(session, ctx, customer, event.data, now)
    if customer.erased_at is None:
        await _queue_follow_up(session, ctx, customer, event.data, now)


async def _extend_silence(
    session: AsyncSession,
    ctx: Engagement,
    customer: Customer,
    complaint: ComplaintOpened,
    now: datetime,
) -> None:
    until = extend_silence(customer.silenced_until, complaint.opened_at, ctx.policy.silence_days)
    if until == customer.silenced_until:
        return  # an older or repeated complaint never shortens the silence
    customer.silenced_until = until
    customer.silence_reason = COMPLAINT
    customer.silence_ticket_id = complaint.ticket_id
    if not is_silenced(until, now):
        return  # backdated beyond the silence: nothing starts
    started = SilenceStarted(
        customer_id=customer.customer_id,
        until=until,
        reason=COMPLAINT,
        ticket_id=complaint.ticket_id,
    )
    event = new_event(
        "silence.started",
        source=ctx.source,
        time=complaint.opened_at,
        subject=customer.customer_id,
        data=started,
    )
    await add_event(session, event, now=now)


async def _queue_follow_up(
    session: AsyncSession,
    ctx: Engagement,
    customer: Customer,
    complaint: ComplaintOpened,
    now: datetime,
) -> None:
    follow_up = MessageRequest(
        customer_id=customer.customer_id,
        channel=pipeline.first_reachable(customer, ctx.settings.follow_up_channels),
        purpose=Purpose.SERVICE,
        template=ctx.settings.follow_up_template,
        trigger="complaint_follow_up",
        params={"ticket_id": complaint.ticket_id, "category": complaint.category},
        dedupe_key=f"complaint_follow_up:{complaint.ticket_id}",
    )
    await pipeline.record_once(session, ctx, follow_up, now)


async def on_segment_changed(
    session: AsyncSession, event: TypedEvent[SegmentChanged], *, ctx: Engagement
) -> None:
    data = event.data
    customer = await _get_or_create(session, data.customer_id)
    if customer.segment_at is not None and event.time < customer.segment_at:
        return  # an older change arriving late: the membership we hold is newer
    customer.segment = data.new_segment
    customer.segment_at = event.time
    now = ctx.clock.now()
    entering = data.old_segment != data.new_segment
    if not entering or customer.erased_at is not None or now - event.time > ctx.trigger_max_age:
        return
    for index, step in enumerate(ctx.settings.playbooks.get(data.new_segment, [])):
        request = MessageRequest(
            customer_id=data.customer_id,
            channel=step.channel,
            purpose=Purpose.MARKETING,
            template=step.template,
            trigger="playbook",
            params={"segment": data.new_segment},
            dedupe_key=_event_key("playbook", event, index),
        )
        await pipeline.record_once(session, ctx, request, now)


async def on_ticket_resolved(
    session: AsyncSession, event: TypedEvent[TicketResolved], *, ctx: Engagement
) -> None:
    data = event.data
    now = ctx.clock.now()
    if data.csat is None or data.csat < ctx.settings.coupon_min_csat:
        return
    if now - data.resolved_at > ctx.trigger_max_age:
        return  # the coupon is promised within 72 hours of the resolution; too late now
    customer = await session.get(Customer, data.customer_id)
    if customer is not None and customer.erased_at is not None:
        return
    request = MessageRequest(
        customer_id=data.customer_id,
        channel=pipeline.first_reachable(customer, ctx.settings.coupon_channels),
        purpose=Purpose.MARKETING,
        template=ctx.settings.coupon_template,
        trigger="csat_coupon",
        params={"ticket_id": data.ticket_id, "category": data.category},
        dedupe_key=f"csat_coupon:{data.ticket_id}",
    )
    await pipeline.record_once(session, ctx, request, now)


async def on_customer_erased(
    session: AsyncSession, event: TypedEvent[CustomerErased], *, ctx: Engagement
) -> None:
    """Contact data, consents, tags and message params go; decisions stay, without them."""
    customer = await _get_or_create(session, event.data.customer_id)
    now = ctx.clock.now()
    customer.email = customer.phone = None
    customer.consents, customer.field_times, customer.tags = {}, {}, []
    customer.segment = None
    customer.erased_at = customer.erased_at or event.data.erased_at
    messages = await session.scalars(
        select(Message).where(Message.customer_id == customer.customer_id)
    )
    for message in messages.all():
        message.params = None
        if message.outcome == pipeline.PENDING:
            message.outcome, message.reason = Outcome.SUPPRESSED.value, pipeline.CUSTOMER_ERASED
            message.next_attempt_at = None
            await pipeline.publish_decision(session, ctx, message, now)
    ctx.adapters.forget(customer.customer_id)


def _event_key(kind: str, event: TypedEvent[Any], index: int) -> str:
    identity = f"{event.envelope.source}\x1f{event.envelope.id}\x1f{index}"
    return f"{kind}:{hashlib.sha256(identity.encode()).hexdigest()[:40]}"


def event_handlers(ctx: Engagement) -> dict[str, EventHandler]:
    return {
        "customer.registered": partial(on_customer_changed, ctx=ctx),
        "customer.updated": partial(on_customer_changed, ctx=ctx),
        "profile.tagged": partial(on_profile_tagged, ctx=ctx),
        "complaint.opened": partial(on_complaint_opened, ctx=ctx),
        "segment.changed": partial(on_segment_changed, ctx=ctx),
        "ticket.resolved": partial(on_ticket_resolved, ctx=ctx),
        "customer.erased": partial(on_customer_erased, ctx=ctx),
    }
