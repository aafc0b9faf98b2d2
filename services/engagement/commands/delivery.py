"""Delivery steps: claim a pending message, hand it to its channel's adapter outside any
database transaction, then settle the attempt as sent, retried later with backoff, or given
up as suppressed with reason `delivery_failed`.

A claim is a lease (`next_attempt_at` moved past the attempt), so a crash between the claim
and the settlement only delays the message: it becomes due again when the lease runs out.
`POST /messages` and campaign dispatches deliver what they just decided with these steps;
the delivery task (`tasks.py`) delivers what is due.
"""

from __future__ import annotations

import logging

from services.engagement import repository
from services.engagement.adapters.delivery import Delivery, DeliveryFailed
from services.engagement.commands.decisions import MessageRequest, record, settle
from services.engagement.context import EngagementContext
from services.engagement.models import Customer, Message
from services.engagement.rules.channels import Channel, Purpose
from services.engagement.rules.decision import PENDING, DeliveryReason, Outcome
from services.engagement.rules.templates import render
from shared.app import TransactionOpener
from shared.transaction import Transaction

log = logging.getLogger(__name__)


async def record_and_claim(
    tx: Transaction, ctx: EngagementContext, request: MessageRequest
) -> tuple[Message, Delivery | None]:
    """Decide and store a message; if it may go, claim its first attempt at once."""
    message, customer = await record(tx, ctx, request)
    if message.outcome != PENDING:
        return message, None
    return message, claim(tx, ctx, message, customer)


def claim(
    tx: Transaction, ctx: EngagementContext, message: Message, customer: Customer | None
) -> Delivery:
    """Take the next attempt of a pending message; what its adapter is to send."""
    message.attempts += 1
    message.next_attempt_at = ctx.delivery.lease_until(tx.now)
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
        address=repository.contact_of(customer).address(channel),
        params=dict(message.params or {}),
    )


async def deliver_claimed(
    begin: TransactionOpener, ctx: EngagementContext, message_id: str, delivery: Delivery
) -> Message | None:
    """Send a claimed message (no transaction open meanwhile), then settle the attempt."""
    failure = await send(ctx, delivery)
    async with begin() as tx:
        return await settle_attempt(tx, ctx, message_id, failure)


async def send(ctx: EngagementContext, delivery: Delivery) -> DeliveryFailed | None:
    """Hand one message to its adapter; the failure, if any, as a value."""
    try:
        await ctx.adapters.deliver(delivery)
    except DeliveryFailed as failure:
        log.warning(
            "delivery failed",
            extra={
                "message_id": delivery.message_id,
                "channel": str(delivery.channel),
                "code": failure.code,
            },
        )
        return failure
    except Exception as exc:
        log.exception("adapter error", extra={"message_id": delivery.message_id})
        return DeliveryFailed(f"adapter_{type(exc).__name__}")
    return None


async def settle_attempt(
    tx: Transaction, ctx: EngagementContext, message_id: str, failure: DeliveryFailed | None
) -> Message | None:
    """Record the result of one attempt on a message that is still pending."""
    message = await repository.message_by_id(tx.session, message_id)
    if message is None or message.outcome != PENDING:
        return message
    if failure is None:
        message.delivered_at = tx.now
        await settle(tx, message, Outcome.SENT, None)
        return message
    message.last_error = failure.code
    retry_at = ctx.delivery.retry_at(message.attempts, tx.now)
    if retry_at is None:
        await settle(tx, message, Outcome.SUPPRESSED, DeliveryReason.DELIVERY_FAILED.value)
    else:
        message.reason = DeliveryReason.DELIVERY_FAILED.value
        message.next_attempt_at = retry_at
    return message
