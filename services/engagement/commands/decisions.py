"""Recording decisions: every outgoing message, whoever asks for it (the API, a campaign, a
trigger), is decided by the rules and stored, and its decision published through the outbox.

A message the decision lets through is stored `pending`, due at once; the delivery steps
(`commands/delivery.py`) hand it to its adapter outside any transaction. A suppressed one is
published at once, a pending one when it is settled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from services.engagement import repository
from services.engagement.context import EngagementContext
from services.engagement.models import Customer, Message
from services.engagement.rules.channels import Channel, Purpose
from services.engagement.rules.decision import (
    PENDING,
    Outcome,
    OutgoingMessage,
    Reason,
    decide_with_contact,
)
from shared.events.catalogue import MessageSent, MessageSuppressed
from shared.transaction import Transaction


@dataclass(frozen=True)
class MessageRequest:
    """A message someone asks engagement to send, before its decision."""

    customer_id: str
    channel: Channel
    purpose: Purpose
    template: str
    trigger: str
    params: dict[str, Any] | None = None
    campaign_id: str | None = None
    dedupe_key: str | None = None
    """What makes a second request the same message: an Idempotency-Key, a ticket, a
    campaign member."""
    request_hash: str | None = None


async def evaluate(
    tx: Transaction,
    ctx: EngagementContext,
    customer_id: str,
    message: OutgoingMessage,
    *,
    exclude: str | None = None,
) -> tuple[Customer | None, Reason | None]:
    """The customer as known and the reason the message is suppressed, None when it may go."""
    customer, state = await repository.decision_inputs(
        tx.session, customer_id, message.purpose, tx.now - ctx.policy.cap_window, exclude=exclude
    )
    decision = decide_with_contact(
        message, state, repository.contact_of(customer), tx.now, ctx.policy
    )
    return customer, decision.reason


async def record(
    tx: Transaction, ctx: EngagementContext, request: MessageRequest
) -> tuple[Message, Customer | None]:
    """Decide and store one message. A suppressed one is published here; a pending one is
    due for delivery now."""
    outgoing = OutgoingMessage(request.channel, request.purpose)
    customer, reason = await evaluate(tx, ctx, request.customer_id, outgoing)
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
        reason=None if reason is None else reason.value,
        decided_at=tx.now,
        attempts=0,
        next_attempt_at=tx.now if reason is None else None,
    )
    tx.session.add(message)
    if reason is not None:
        await publish_decision(tx, message)
    return message, customer


async def record_once(
    tx: Transaction, ctx: EngagementContext, request: MessageRequest
) -> Message | None:
    """`record` unless a message with the same dedupe key exists (a redelivered trigger)."""
    key = request.dedupe_key
    if key is not None and await repository.message_by_key(tx.session, key) is not None:
        return None
    message, _customer = await record(tx, ctx, request)
    return message


async def settle(tx: Transaction, message: Message, outcome: Outcome, reason: str | None) -> None:
    """Close a pending message as sent or suppressed and publish its decision."""
    message.outcome = outcome.value
    message.reason = reason
    message.next_attempt_at = None
    await publish_decision(tx, message)


async def publish_decision(tx: Transaction, message: Message) -> None:
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
        data = MessageSent(**common)
    else:
        data = MessageSuppressed(**common, reason=message.reason or "unknown")
    await tx.outbox.publish(data, time=tx.now)
