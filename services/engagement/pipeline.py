"""The decision pipeline every outgoing message passes: consent -> silence -> frequency cap
(the pure rules) -> a reachable address -> recorded, then handed to delivery.

A message the pipeline lets through is recorded as `pending` and becomes `sent` once its
adapter took it (see delivery.py); a suppressed one is recorded and published at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement.adapters import Delivery
from services.engagement.context import Engagement
from services.engagement.models import Customer, Message
from services.engagement.rules import (
    Channel,
    CustomerState,
    Outcome,
    OutgoingMessage,
    Purpose,
    decide,
)
from services.engagement.templates import render
from shared.events.catalogue import MessageSent, MessageSuppressed
from shared.events.envelope import new_event
from shared.outbox import add_event

PENDING = "pending"
# Reasons beyond the rules' own (no_consent, silenced, frequency_cap).
NO_CONTACT = "no_contact"
DELIVERY_FAILED = "delivery_failed"
CUSTOMER_ERASED = "customer_erased"

_ADDRESSED_BY = {Channel.EMAIL: "email", Channel.SMS: "phone"}


@dataclass(frozen=True)
class MessageRequest:
    customer_id: str
    channel: Channel
    purpose: Purpose
    template: str
    trigger: str
    params: dict[str, Any] | None = None
    campaign_id: str | None = None
    dedupe_key: str | None = None
    request_hash: str | None = None


def consented_channels(customer: Customer | None) -> frozenset[Channel]:
    if customer is None:
        return frozenset()
    return frozenset(Channel(name) for name, given in customer.consents.items() if given)


def address_for(customer: Customer | None, channel: Channel) -> str | None:
    field = _ADDRESSED_BY.get(channel)
    return getattr(customer, field) if field and customer is not None else None


def reachable(customer: Customer | None, channel: Channel) -> bool:
    return channel not in _ADDRESSED_BY or bool(address_for(customer, channel))


def first_reachable(customer: Customer | None, preference: Iterable[Channel]) -> Channel:
    """The first channel the customer consented to and can be reached on; in_app otherwise."""
    consented = consented_channels(customer)
    for channel in preference:
        if channel in consented and reachable(customer, channel):
            return channel
    return Channel.IN_APP


async def marketing_sent_at(
    session: AsyncSession,
    ctx: Engagement,
    customer_id: str,
    now: datetime,
    exclude: str | None = None,
) -> tuple[datetime, ...]:
    """Marketing messages sent or on their way within the cap window."""
    query = select(Message.decided_at).where(
        Message.customer_id == customer_id,
        Message.purpose == Purpose.MARKETING.value,
        Message.outcome.in_([Outcome.SENT.value, PENDING]),
        Message.decided_at > now - ctx.policy.cap_window,
    )
    if exclude is not None:
        query = query.where(Message.message_id != exclude)
    return tuple((await session.scalars(query)).all())


async def evaluate(
    session: AsyncSession,
    ctx: Engagement,
    customer_id: str,
    message: OutgoingMessage,
    now: datetime,
    exclude: str | None = None,
) -> tuple[Customer | None, str | None]:
    """The customer as known and the suppression reason, None when the message may go.

    A marketing decision locks the customer's row (PostgreSQL), so two concurrent sends can
    never both take the last place under the cap."""
    marketing = message.purpose is Purpose.MARKETING
    customer = await session.get(Customer, customer_id, with_for_update=marketing or None)
    state: CustomerState | None = None
    if customer is not None:
        sent_at: Sequence[datetime] = ()
        if marketing:
            sent_at = await marketing_sent_at(session, ctx, customer_id, now, exclude)
        state = CustomerState(
            consented_channels=consented_channels(customer),
            tags=frozenset(customer.tags),
            silenced_until=customer.silenced_until,
            marketing_sent_at=tuple(sent_at),
        )
    decision = decide(message, state, now, ctx.policy)
    if not decision.sent:
        return customer, str(decision.reason)
    if not reachable(customer, message.channel):
        return customer, NO_CONTACT
    return customer, None


async def find_by_key(session: AsyncSession, dedupe_key: str) -> Message | None:
    found: Message | None = await session.scalar(
        select(Message).where(Message.dedupe_key == dedupe_key)
    )
    return found


async def record(
    session: AsyncSession, ctx: Engagement, request: MessageRequest, now: datetime
) -> tuple[Message, Customer | None]:
    """Decide and store one message. A suppressed one is published here; a pending one is
    due for delivery now."""
    outgoing = OutgoingMessage(request.channel, request.purpose)
    customer, reason = await evaluate(session, ctx, request.customer_id, outgoing, now)
    message = Message(
        message_id=str(uuid.uuid4()),
        customer_id=request.customer_id,
        channel=request.channel.value,
        purpose=request.purpose.value,
        template=request.template,
        params=request.params,
        trigger=request.trigger,
        campaign_id=request.campaign_id,
        dedupe_key=request.dedupe_key,
        request_hash=request.request_hash,
        outcome=PENDING if reason is None else Outcome.SUPPRESSED.value,
        reason=reason,
        decided_at=now,
        attempts=0,
        next_attempt_at=now if reason is None else None,
    )
    session.add(message)
    if reason is not None:
        await publish_decision(session, ctx, message, now)
    return message, customer


async def record_once(
    session: AsyncSession, ctx: Engagement, request: MessageRequest, now: datetime
) -> Message | None:
    """`record` unless a message with the same dedupe key exists (a redelivered trigger)."""
    if request.dedupe_key and await find_by_key(session, request.dedupe_key) is not None:
        return None
    message, _customer = await record(session, ctx, request, now)
    return message


def delivery_of(message: Message, customer: Customer | None) -> Delivery:
    channel = Channel(message.channel)
    subject, text = render(message.template, message.params)
    return Delivery(
        message_id=message.message_id,
        customer_id=message.customer_id,
        channel=channel,
        purpose=Purpose(message.purpose),
        template=message.template,
        subject=subject,
        text=text,
        address=address_for(customer, channel),
        params=dict(message.params or {}),
    )


async def publish_decision(
    session: AsyncSession, ctx: Engagement, message: Message, now: datetime
) -> None:
    """`message.sent` or `message.suppressed`, through the outbox, for a settled message."""
    common: dict[str, Any] = {
        "customer_id": message.customer_id,
        "message_id": message.message_id,
        "channel": message.channel,
        "purpose": message.purpose,
        "template": message.template,
        "campaign_id": message.campaign_id,
    }
    data: MessageSent | MessageSuppressed
    if message.outcome == Outcome.SENT.value:
        event_type, data = "message.sent", MessageSent(**common)
    else:
        event_type = "message.suppressed"
        data = MessageSuppressed(**common, reason=message.reason or "unknown")
    event = new_event(
        event_type, source=ctx.source, time=now, subject=message.customer_id, data=data
    )
    await add_event(session, event, now=now)
