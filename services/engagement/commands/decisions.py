"""Recording decisions: every outgoing message, whoever asks for it (the API, a campaign, a
trigger), is decided by the rules and stored, and its decision published through the outbox.

A set of requests is decided in order in memory: one query for the dedupe keys already
taken, one grouped count of the marketing under the cap for their customers, then each
decision sees the ones before it (a customer's second marketing message in the same run
counts the first against the cap). The set is written in one multi-row insert.

A message the decision lets through is stored `pending`, due at once; the delivery steps
(`commands/delivery.py`) hand it to its adapter outside any transaction. A suppressed one is
published at once, a pending one when it is settled.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.engagement.context import EngagementContext
from services.engagement.repository.customers import CustomerRecord, contact_of, state_of
from services.engagement.repository.messages import (
    MessageRecord,
    insert_messages,
    marketing_in_window,
    recorded_keys,
)
from services.engagement.rules.channels import Channel, Purpose
from services.engagement.rules.decision import (
    PENDING,
    Outcome,
    OutgoingMessage,
    cap_window_start,
    counts_against_cap,
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


async def decide_all(
    tx: Transaction,
    ctx: EngagementContext,
    requests: Sequence[MessageRequest],
    customers: Mapping[str, CustomerRecord],
) -> list[MessageRecord]:
    """Decide the requests in order, each seeing the ones before it; nothing is written.
    A request whose dedupe key a message already holds (or an earlier request of the set)
    is left out: read first when marketing is among them (a message left out must not
    count against the cap), else left to `store`, which skips a key taken (the complaint
    loop's notices need no read). `customers` holds the customers as known; one missing is
    a stranger."""
    keys = {r.dedupe_key for r in requests if r.dedupe_key is not None}
    marketing = any(r.purpose is Purpose.MARKETING for r in requests)
    taken = await recorded_keys(tx.session, keys) if keys and marketing else set()
    wanted: list[MessageRequest] = []
    for request in requests:
        if request.dedupe_key is not None:
            if request.dedupe_key in taken:
                continue
            taken.add(request.dedupe_key)
        wanted.append(request)
    marketed = {
        r.customer_id
        for r in wanted
        if r.purpose is Purpose.MARKETING and r.customer_id in customers
    }
    counted: Counter[str] = Counter()
    if marketed:
        window_start = cap_window_start(tx.now, ctx.policy)
        counted.update(await marketing_in_window(tx.session, marketed, window_start))
    decided: list[MessageRecord] = []
    for request in wanted:
        message = _decide(tx, ctx, request, customers.get(request.customer_id), counted)
        if counts_against_cap(request.purpose, message.outcome):
            counted[request.customer_id] += 1
        decided.append(message)
    return decided


def _decide(
    tx: Transaction,
    ctx: EngagementContext,
    request: MessageRequest,
    customer: CustomerRecord | None,
    counted: Counter[str],
) -> MessageRecord:
    state = None if customer is None else state_of(customer, counted[customer.customer_id])
    outgoing = OutgoingMessage(request.channel, request.purpose)
    decision = decide_with_contact(outgoing, state, contact_of(customer), tx.now, ctx.policy)
    reason = decision.reason
    return MessageRecord(
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
        next_attempt_at=tx.now if reason is None else None,
    )


async def store(tx: Transaction, decided: Sequence[MessageRecord]) -> list[MessageRecord]:
    """Write decided messages in one insert, but for those whose dedupe key a message
    already holds; the suppressed ones are published. The messages stored."""
    inserted = await insert_messages(tx.session, decided)
    stored = [message for message in decided if message.message_id in inserted]
    for message in stored:
        if message.outcome != PENDING:
            await publish_decision(tx, message)
    return stored


async def record_all(
    tx: Transaction,
    ctx: EngagementContext,
    requests: Sequence[MessageRequest],
    customers: Mapping[str, CustomerRecord],
) -> list[MessageRecord]:
    """`decide_all`, then `store`: what a trigger does."""
    return await store(tx, await decide_all(tx, ctx, requests, customers))


async def settle(
    tx: Transaction, message: MessageRecord, outcome: Outcome, reason: str | None
) -> None:
    """Close a pending message as sent or suppressed and publish its decision (the caller
    writes the message)."""
    message.outcome = outcome.value
    message.reason = reason
    message.next_attempt_at = None
    await publish_decision(tx, message)


async def publish_decision(tx: Transaction, message: MessageRecord) -> None:
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
