"""API reads, each on a read-only session (`runtime.read()`): what engagement knows of a
customer and their silence (one primary-key read of the read model the handlers keep), their
messages, campaigns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement.models import Message
from services.engagement.repository.campaigns import find_campaign
from services.engagement.repository.customers import (
    CustomerRecord,
    consents_of,
    contact_of,
    find_customer,
)
from services.engagement.rules.channels import reachable_channels
from services.engagement.rules.silence import is_silenced
from services.engagement.schemas import (
    CampaignPublic,
    CustomerPublic,
    MessagePage,
    MessagePublic,
    SilencePublic,
)
from shared.errors import InvalidInput, NotFound
from shared.pagination import next_cursor


async def customer(session: AsyncSession, customer_id: str, now: datetime) -> CustomerPublic:
    """What engagement has learned of the customer from events; 404 if nothing yet."""
    found = await find_customer(session, customer_id)
    if found is None:
        raise NotFound("customer", customer_id)
    return CustomerPublic(
        customer_id=found.customer_id,
        consents=found.consents,
        reachable_channels=reachable_channels(consents_of(found), contact_of(found)),
        tags=found.tags,
        segment=found.segment,
        silence=silence_of(customer_id, found, now),
        erased=found.erased,
    )


async def silence(session: AsyncSession, customer_id: str, now: datetime) -> SilencePublic:
    return silence_of(customer_id, await find_customer(session, customer_id), now)


def silence_of(customer_id: str, customer: CustomerRecord | None, now: datetime) -> SilencePublic:
    """A customer never heard of is simply not silenced: the question is "may I market to
    this person", not "does this record exist"."""
    if customer is None or not is_silenced(customer.silenced_until, now):
        return SilencePublic(
            customer_id=customer_id, silenced=False, until=None, reason=None, ticket_id=None
        )
    return SilencePublic(
        customer_id=customer_id,
        silenced=True,
        until=customer.silenced_until,
        reason=customer.silence_reason,
        ticket_id=customer.silence_ticket_id,
    )


async def messages(
    session: AsyncSession, customer_id: str, *, limit: int, cursor: str | None
) -> MessagePage:
    """Every decision about the customer, newest first, a cursor page at a time."""
    query = select(Message).where(Message.customer_id == customer_id)
    if cursor is not None:
        decided_at, seq = _position(cursor)
        query = query.where(
            or_(
                Message.decided_at < decided_at,
                and_(Message.decided_at == decided_at, Message.seq < seq),
            )
        )
    query = query.order_by(Message.decided_at.desc(), Message.seq.desc()).limit(limit + 1)
    rows = list((await session.scalars(query)).all())
    return MessagePage(
        items=[MessagePublic.model_validate(row, from_attributes=True) for row in rows[:limit]],
        next_cursor=next_cursor([_key(row) for row in rows], limit),
    )


def _key(message: Message) -> str:
    return f"{message.decided_at.isoformat()}|{message.seq}"


def _position(cursor: str) -> tuple[datetime, int]:
    """The (decided_at, seq) a page starts after, from a decoded cursor."""
    moment, _, seq = cursor.rpartition("|")
    try:
        decided_at, number = datetime.fromisoformat(moment), int(seq)
    except ValueError:
        decided_at, number = None, 0
    if decided_at is None or decided_at.tzinfo is None:
        raise InvalidInput("cursor", "not a cursor returned by this API", location="query")
    return decided_at, number


async def campaign(session: AsyncSession, campaign_id: str) -> CampaignPublic:
    found = await find_campaign(session, campaign_id)
    if found is None:
        raise NotFound("campaign", campaign_id)
    return CampaignPublic.model_validate(found, from_attributes=True)
