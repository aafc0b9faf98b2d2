"""Delivery: a pending message is claimed, handed to its channel's adapter outside any
database transaction, then settled as sent, retried later with backoff, or given up as
suppressed with reason `delivery_failed`.

A claim is a lease (`next_attempt_at` moved past the attempt), so a crash between the claim
and the settlement only delays the message: it becomes due again when the lease runs out.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement import pipeline
from services.engagement.adapters import Delivery, DeliveryFailed
from services.engagement.context import Engagement
from services.engagement.models import Message
from services.engagement.rules import Channel, Outcome, OutgoingMessage, Purpose
from shared.app import PeriodicJob, UnitOfWork

log = logging.getLogger(__name__)

Claimed = tuple[str, Delivery | None]


def claim(message: Message, ctx: Engagement, now: datetime) -> None:
    message.attempts += 1
    message.next_attempt_at = now + ctx.delivery.lease


async def claim_due(session: AsyncSession, ctx: Engagement, now: datetime) -> list[Claimed]:
    """Claim the pending messages that are due; each comes back with what to deliver, or
    None when the pipeline, asked again, now suppresses it (consent withdrawn, silenced)."""
    due = await session.scalars(
        select(Message)
        .where(Message.outcome == pipeline.PENDING, Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at, Message.seq)
        .limit(ctx.delivery.batch_size)
        .with_for_update(skip_locked=True)
    )
    claimed: list[Claimed] = []
    for message in due.all():
        outgoing = OutgoingMessage(Channel(message.channel), Purpose(message.purpose))
        customer, reason = await pipeline.evaluate(
            session, ctx, message.customer_id, outgoing, now, exclude=message.message_id
        )
        if reason is not None:
            await _settle(session, ctx, message, now, Outcome.SUPPRESSED.value, reason)
            claimed.append((message.message_id, None))
            continue
        claim(message, ctx, now)
        claimed.append((message.message_id, pipeline.delivery_of(message, customer)))
    return claimed


async def send(ctx: Engagement, delivery: Delivery) -> DeliveryFailed | None:
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


async def settle(
    session: AsyncSession,
    ctx: Engagement,
    message_id: str,
    now: datetime,
    failure: DeliveryFailed | None,
) -> Message | None:
    """Record the result of one attempt on a message that is still pending."""
    message = await session.scalar(select(Message).where(Message.message_id == message_id))
    if message is None or message.outcome != pipeline.PENDING:
        return message
    if failure is None:
        message.delivered_at = now
        await _settle(session, ctx, message, now, Outcome.SENT.value, None)
    elif message.attempts >= ctx.delivery.max_attempts:
        message.last_error = failure.code
        await _settle(
            session, ctx, message, now, Outcome.SUPPRESSED.value, pipeline.DELIVERY_FAILED
        )
    else:
        message.last_error = failure.code
        message.reason = pipeline.DELIVERY_FAILED
        message.next_attempt_at = now + ctx.delivery.backoff(message.attempts)
    return message


async def _settle(
    session: AsyncSession,
    ctx: Engagement,
    message: Message,
    now: datetime,
    outcome: str,
    reason: str | None,
) -> None:
    message.outcome = outcome
    message.reason = reason
    message.next_attempt_at = None
    await pipeline.publish_decision(session, ctx, message, now)


async def deliver_claimed(
    transaction: UnitOfWork, ctx: Engagement, message_id: str, delivery: Delivery
) -> Message | None:
    failure = await send(ctx, delivery)
    async with transaction() as session:
        return await settle(session, ctx, message_id, ctx.clock.now(), failure)


async def deliver_due(transaction: UnitOfWork, ctx: Engagement) -> int:
    """One pass of the delivery worker; returns how many messages it claimed."""
    async with transaction() as session:
        claimed = await claim_due(session, ctx, ctx.clock.now())
    for message_id, delivery in claimed:
        if delivery is not None:
            await deliver_claimed(transaction, ctx, message_id, delivery)
    return len(claimed)


def delivery_task(ctx: Engagement) -> PeriodicJob:
    """Its own short transactions: none is open while an adapter talks to its gateway."""

    async def run(transaction: UnitOfWork, _now: datetime) -> None:
        await deliver_due(transaction, ctx)

    return PeriodicJob("deliver_messages", ctx.settings.delivery_interval_s, run)
