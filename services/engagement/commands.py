"""Engagement's command and query handlers, called by the API.

Sends take two short transactions around the adapter call (decide and claim, then settle),
so no database transaction is held open while a gateway answers.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement import delivery, pipeline
from services.engagement.adapters import Delivery
from services.engagement.context import Engagement
from services.engagement.delivery import UnitOfWork
from services.engagement.models import Campaign, Customer, Message
from services.engagement.pipeline import MessageRequest
from services.engagement.rules import Channel, Outcome, Purpose, is_silenced
from services.engagement.schemas import CampaignCreate, MessageCreate
from shared.errors import Conflict, NotFound


@dataclass(frozen=True)
class Silence:
    customer_id: str
    silenced: bool
    until: datetime | None = None
    reason: str | None = None
    ticket_id: str | None = None


def silence_of(customer_id: str, customer: Customer | None, now: datetime) -> Silence:
    """A customer never heard of is simply not silenced: the question is "may I market to
    this person", not "does this record exist"."""
    if customer is None or not is_silenced(customer.silenced_until, now):
        return Silence(customer_id, silenced=False)
    return Silence(
        customer_id,
        silenced=True,
        until=customer.silenced_until,
        reason=customer.silence_reason,
        ticket_id=customer.silence_ticket_id,
    )


async def get_silence(session: AsyncSession, customer_id: str, now: datetime) -> Silence:
    return silence_of(customer_id, await session.get(Customer, customer_id), now)


async def get_customer(session: AsyncSession, customer_id: str) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def reachable_channels(customer: Customer) -> list[Channel]:
    consented = pipeline.consented_channels(customer)
    return [
        channel
        for channel in Channel
        if (channel in consented or not channel.needs_consent)
        and pipeline.reachable(customer, channel)
    ]


async def list_messages(
    session: AsyncSession, customer_id: str, *, limit: int, offset: int
) -> tuple[list[Message], bool]:
    """Newest first; the flag says whether another page follows."""
    rows = await session.scalars(
        select(Message)
        .where(Message.customer_id == customer_id)
        .order_by(Message.decided_at.desc(), Message.seq.desc())
        .offset(offset)
        .limit(limit + 1)
    )
    messages = list(rows.all())
    return messages[:limit], len(messages) > limit


async def send_one_off(
    transaction: UnitOfWork,
    ctx: Engagement,
    command: MessageCreate,
    idempotency_key: str | None,
) -> tuple[Message, bool]:
    """Decide, record and deliver one message; (message, created). The same Idempotency-Key
    answers with the first decision and sends nothing again."""
    fingerprint = hashlib.sha256(
        json.dumps(command.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    key = f"api:{idempotency_key}" if idempotency_key else None
    request = MessageRequest(
        customer_id=command.customer_id,
        channel=command.channel,
        purpose=command.purpose,
        template=command.template,
        trigger="api",
        params=command.params,
        dedupe_key=key,
        request_hash=fingerprint,
    )
    now = ctx.clock.now()
    try:
        async with transaction() as session:
            if key is not None and (earlier := await pipeline.find_by_key(session, key)):
                return _replay(earlier, fingerprint), False
            message, payload = await _record_and_claim(session, ctx, request, now)
    except IntegrityError:
        if key is None:
            raise
        async with transaction() as session:  # a concurrent request with the same key won
            earlier = await pipeline.find_by_key(session, key)
        if earlier is None:
            raise
        return _replay(earlier, fingerprint), False
    if payload is not None:
        settled = await delivery.deliver_claimed(transaction, ctx, message.message_id, payload)
        message = settled or message
    return message, True


def _replay(message: Message, fingerprint: str) -> Message:
    if message.request_hash != fingerprint:
        raise Conflict(
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different message; use a new key.",
        )
    return message


async def _record_and_claim(
    session: AsyncSession, ctx: Engagement, request: MessageRequest, now: datetime
) -> tuple[Message, Delivery | None]:
    message, customer = await pipeline.record(session, ctx, request, now)
    if message.outcome != pipeline.PENDING:
        return message, None
    delivery.claim(message, ctx, now)
    return message, pipeline.delivery_of(message, customer)


async def create_campaign(session: AsyncSession, body: CampaignCreate, now: datetime) -> Campaign:
    campaign = Campaign(
        campaign_id=str(uuid.uuid4()),
        name=body.name,
        segment=body.segment,
        channel=body.channel.value,
        purpose=body.purpose.value,
        template=body.template,
        params=body.params,
        created_at=now,
        dispatches=0,
    )
    session.add(campaign)
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: str) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


@dataclass
class DispatchCounts:
    campaign_id: str
    members: int = 0
    already_dispatched: int = 0
    sent: int = 0
    pending: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)

    def count(self, message: Message) -> None:
        if message.outcome == Outcome.SENT.value:
            self.sent += 1
        elif message.outcome == pipeline.PENDING:
            self.pending += 1
        else:
            self.suppressed[message.reason or "unknown"] += 1


async def dispatch_campaign(
    transaction: UnitOfWork, ctx: Engagement, campaign_id: str
) -> DispatchCounts:
    """Every current member of the segment gets one decision per campaign; a second dispatch
    reaches only members who joined since."""
    now = ctx.clock.now()
    counts = DispatchCounts(campaign_id)
    claimed: list[tuple[str, Delivery]] = []
    async with transaction() as session:
        campaign = await get_campaign(session, campaign_id)
        members = (
            await session.scalars(
                select(Customer.customer_id)
                .where(Customer.segment == campaign.segment, Customer.erased_at.is_(None))
                .order_by(Customer.customer_id)
            )
        ).all()
        decided = set(
            (
                await session.scalars(
                    select(Message.dedupe_key).where(Message.campaign_id == campaign_id)
                )
            ).all()
        )
        counts.members = len(members)
        for customer_id in members:
            key = f"campaign:{campaign_id}:{customer_id}"
            if key in decided:
                counts.already_dispatched += 1
                continue
            request = MessageRequest(
                customer_id=customer_id,
                channel=Channel(campaign.channel),
                purpose=Purpose(campaign.purpose),
                template=campaign.template,
                trigger="campaign",
                params=campaign.params,
                campaign_id=campaign_id,
                dedupe_key=key,
            )
            message, payload = await _record_and_claim(session, ctx, request, now)
            if payload is None:
                counts.count(message)
            else:
                claimed.append((message.message_id, payload))
        campaign.last_dispatched_at = now
        campaign.dispatches += 1
    for message_id, payload in claimed:
        settled = await delivery.deliver_claimed(transaction, ctx, message_id, payload)
        if settled is not None:
            counts.count(settled)
    return counts
