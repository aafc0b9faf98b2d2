"""Engagement's rows: load and save customers, messages and campaigns, and turn rows into the
values the rules take (`CustomerState`, `Contact`, consented channels)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement.models import Campaign, Customer, Message
from services.engagement.rules.channels import Channel, Contact, Purpose, consented_channels
from services.engagement.rules.decision import COUNTED_AGAINST_CAP, PENDING, CustomerState

# --- customers ------------------------------------------------------------------------------


async def find_customer(
    session: AsyncSession, customer_id: str, *, lock: bool = False
) -> Customer | None:
    """The customer as known; `lock` takes the row for the rest of the transaction
    (PostgreSQL), so two concurrent marketing decisions never both take the last place
    under the cap."""
    return await session.get(Customer, customer_id, with_for_update=lock or None)


async def customer_or_new(session: AsyncSession, customer_id: str) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        customer = Customer(customer_id=customer_id, consents={}, field_times={}, tags=[])
        session.add(customer)
        await session.flush()
    return customer


def consents_of(customer: Customer | None) -> frozenset[Channel]:
    return frozenset() if customer is None else consented_channels(customer.consents)


def contact_of(customer: Customer | None) -> Contact:
    if customer is None:
        return Contact()
    return Contact(email=customer.email, phone=customer.phone)


def set_facts(customer: Customer, facts: Mapping[str, Any], at: datetime) -> None:
    """Store facts ("email", "phone", "consent.<channel>") with the business time that set
    them (see `rules.facts.newer_facts` for which ones a late event still may set)."""
    times = dict(customer.field_times)
    consents = dict(customer.consents)
    for name, value in facts.items():
        times[name] = at.isoformat()
        if name.startswith("consent."):
            consents[name.removeprefix("consent.")] = bool(value)
        else:
            setattr(customer, name, value)
    customer.field_times = times
    customer.consents = consents


def forget_personal_data(customer: Customer, erased_at: datetime) -> None:
    """Contact data, consents, tags and segment go; the silence and the decisions stay."""
    customer.email = customer.phone = None
    customer.consents, customer.field_times, customer.tags = {}, {}, []
    customer.segment = None
    customer.erased_at = customer.erased_at or erased_at


async def decision_inputs(
    session: AsyncSession,
    customer_id: str,
    purpose: Purpose,
    cap_window_start: datetime,
    *,
    exclude: str | None = None,
) -> tuple[Customer | None, CustomerState | None]:
    """The customer row and the state the decision reads (None for a stranger). A marketing
    decision locks the customer's row and reads the marketing that counts against the cap
    since `cap_window_start`, except the message `exclude` (the one being decided again)."""
    marketing = purpose is Purpose.MARKETING
    customer = await find_customer(session, customer_id, lock=marketing)
    if customer is None:
        return None, None
    sent_at: tuple[datetime, ...] = ()
    if marketing:
        sent_at = await marketing_counted_since(session, customer_id, cap_window_start, exclude)
    state = CustomerState(
        consented_channels=consents_of(customer),
        tags=frozenset(customer.tags),
        silenced_until=customer.silenced_until,
        marketing_sent_at=sent_at,
    )
    return customer, state


async def marketing_counted_since(
    session: AsyncSession, customer_id: str, since: datetime, exclude: str | None = None
) -> tuple[datetime, ...]:
    """Decision times of the customer's marketing that counts against the cap (sent, and on
    its way) after `since`."""
    query = select(Message.decided_at).where(
        Message.customer_id == customer_id,
        Message.purpose == Purpose.MARKETING.value,
        Message.outcome.in_(sorted(COUNTED_AGAINST_CAP)),
        Message.decided_at > since,
    )
    if exclude is not None:
        query = query.where(Message.message_id != exclude)
    return tuple((await session.scalars(query)).all())


# --- messages -------------------------------------------------------------------------------


async def message_by_key(session: AsyncSession, dedupe_key: str) -> Message | None:
    found: Message | None = await session.scalar(
        select(Message).where(Message.dedupe_key == dedupe_key)
    )
    return found


async def message_by_id(session: AsyncSession, message_id: str) -> Message | None:
    found: Message | None = await session.scalar(
        select(Message).where(Message.message_id == message_id)
    )
    return found


async def messages_of(session: AsyncSession, customer_id: str) -> Sequence[Message]:
    rows = await session.scalars(select(Message).where(Message.customer_id == customer_id))
    return rows.all()


async def due_messages(session: AsyncSession, now: datetime, limit: int) -> Sequence[Message]:
    """Pending messages whose next attempt is due, oldest first; rows another worker holds
    are skipped (PostgreSQL), so replicas never claim the same message."""
    rows = await session.scalars(
        select(Message)
        .where(Message.outcome == PENDING, Message.next_attempt_at <= now)
        .order_by(Message.next_attempt_at, Message.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return rows.all()


# --- campaigns ------------------------------------------------------------------------------


async def find_campaign(session: AsyncSession, campaign_id: str) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def segment_members(session: AsyncSession, segment: str) -> Sequence[str]:
    """Current members of a segment (as `segment.changed` told), erased customers left out."""
    rows = await session.scalars(
        select(Customer.customer_id)
        .where(Customer.segment == segment, Customer.erased_at.is_(None))
        .order_by(Customer.customer_id)
    )
    return rows.all()


async def campaign_dedupe_keys(session: AsyncSession, campaign_id: str) -> set[str]:
    """The keys of the decisions a campaign's earlier dispatches made."""
    rows = await session.scalars(
        select(Message.dedupe_key).where(Message.campaign_id == campaign_id)
    )
    return {key for key in rows.all() if key is not None}
