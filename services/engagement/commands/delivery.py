"""Delivery steps: claim pending messages, hand each to its channel's adapter outside any
database transaction, then settle the attempts as sent, retried later with backoff, or given
up as suppressed with reason `delivery_failed`.

A claim is a lease (`next_attempt_at` moved past the attempt), so a crash between the claim
and the settlement only delays the message: it becomes due again when the lease runs out.
`POST /messages` and campaign dispatches deliver what they just decided with these steps;
the delivery task (`tasks.py`) delivers what is due. Claims and settlements are sets: one
transaction claims a set, one settles it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from services.engagement.adapters.delivery import Delivery, DeliveryFailed
from services.engagement.commands.decisions import (
    MessageRequest,
    decide_all,
    settle,
    store,
)
from services.engagement.context import EngagementContext
from services.engagement.repository.customers import (
    CustomerRecord,
    contact_of,
    load_customers,
)
from services.engagement.repository.messages import (
    SETTLEMENT,
    MessageRecord,
    messages_by_id,
    update_messages,
)
from services.engagement.rules.channels import Channel, Purpose
from services.engagement.rules.decision import PENDING, DeliveryReason, Outcome
from services.engagement.rules.templates import render
from shared.app import TransactionOpener
from shared.transaction import Transaction

log = logging.getLogger(__name__)

Claimed = tuple[MessageRecord, Delivery | None]
"""A message and what its adapter is to send; None when it was settled instead."""


async def record_and_claim(
    tx: Transaction,
    ctx: EngagementContext,
    requests: Sequence[MessageRequest],
    customers: Mapping[str, CustomerRecord] | None = None,
) -> list[Claimed]:
    """Decide and store messages; those that may go have their first attempt claimed at
    once. `customers` as known (loaded here, locked for marketing, when not given). A
    request whose dedupe key a message already holds is not among those returned."""
    if customers is None:
        marketing = any(r.purpose is Purpose.MARKETING for r in requests)
        ids = {r.customer_id for r in requests}
        customers = await load_customers(tx.session, ids, lock=marketing)
    decided = await decide_all(tx, ctx, requests, customers)
    claimed: list[Claimed] = [
        (m, claim(tx, ctx, m, customers.get(m.customer_id)) if m.outcome == PENDING else None)
        for m in decided
    ]
    stored = {m.message_id for m in await store(tx, decided)}
    return [(m, delivery) for m, delivery in claimed if m.message_id in stored]


def claim(
    tx: Transaction, ctx: EngagementContext, message: MessageRecord, customer: CustomerRecord | None
) -> Delivery:
    """Take the next attempt of a pending message (the caller writes it); what its adapter
    is to send."""
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
        address=contact_of(customer).address(channel),
        params=dict(message.params or {}),
    )


async def deliver_claimed(
    begin: TransactionOpener, ctx: EngagementContext, claimed: Sequence[Claimed]
) -> list[MessageRecord]:
    """Send the claimed messages (no transaction open meanwhile), then settle the attempts
    in one transaction; the messages as settled."""
    attempts = [(m.message_id, await send(ctx, d)) for m, d in claimed if d is not None]
    if not attempts:
        return []
    async with begin() as tx:
        return await settle_attempts(tx, ctx, attempts)


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


async def settle_attempts(
    tx: Transaction,
    ctx: EngagementContext,
    attempts: Sequence[tuple[str, DeliveryFailed | None]],
) -> list[MessageRecord]:
    """Record the result of one attempt on each message still pending (one read, one
    write); the messages as they stand."""
    found = await messages_by_id(tx.session, [message_id for message_id, _ in attempts], lock=True)
    settled: list[MessageRecord] = []
    changed: list[MessageRecord] = []
    for message_id, failure in attempts:
        message = found.get(message_id)
        if message is None:
            continue
        settled.append(message)
        if message.outcome != PENDING:
            continue
        changed.append(message)
        if failure is None:
            message.delivered_at = tx.now
            await settle(tx, message, Outcome.SENT, None)
            continue
        message.last_error = failure.code
        retry_at = ctx.delivery.retry_at(message.attempts, tx.now)
        if retry_at is None:
            await settle(tx, message, Outcome.SUPPRESSED, DeliveryReason.DELIVERY_FAILED.value)
        else:
            message.reason = DeliveryReason.DELIVERY_FAILED.value
            message.next_attempt_at = retry_at
    await update_messages(tx.session, changed, SETTLEMENT)
    return settled
