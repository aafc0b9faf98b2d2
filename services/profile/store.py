"""Loading and saving the profile service's rows; no business rules here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.facts import CustomerFacts
from services.profile.facts_codec import facts_from_json, facts_to_json
from services.profile.models import Customer, CustomerFeatures, CustomerTag, TicketState
from services.profile.tagging import TagChange
from shared.tables import outbox


async def find_customer(
    session: AsyncSession, customer_id: str, *, lock: bool = False
) -> Customer | None:
    """The customer row; ``lock`` holds it (FOR UPDATE) against a concurrent re-evaluation."""
    return await session.get(Customer, customer_id, with_for_update=True if lock else None)


async def customer_for_event(session: AsyncSession, customer_id: str, at: datetime) -> Customer:
    """The customer an event is about, locked; a customer first heard of is created."""
    customer = await find_customer(session, customer_id, lock=True)
    if customer is None:
        customer = Customer(customer_id=customer_id, consents={}, updated_at=at, open_tickets=0)
        session.add(customer)
    return customer


async def mark_ticket_opened(
    session: AsyncSession, customer_id: str, ticket_id: str, at: datetime
) -> int:
    """Record a ticket's opening; returns by how much the open-ticket count changes (0 or 1)."""
    state = await session.get(TicketState, ticket_id)
    if state is None:
        session.add(TicketState(ticket_id=ticket_id, customer_id=customer_id, opened_at=at))
        return 1
    if state.opened_at is None:
        state.opened_at = at  # resolved before its opening arrived: it was never open here
    return 0


async def mark_ticket_resolved(
    session: AsyncSession, customer_id: str, ticket_id: str, at: datetime
) -> int:
    """Record a ticket's resolution; returns the change of the open-ticket count (0 or -1)."""
    state = await session.get(TicketState, ticket_id)
    if state is None:
        session.add(TicketState(ticket_id=ticket_id, customer_id=customer_id, resolved_at=at))
        return 0
    if state.resolved_at is not None:
        return 0
    state.resolved_at = at
    return -1 if state.opened_at is not None else 0


async def load_facts(session: AsyncSession, customer_id: str) -> CustomerFacts:
    row = await session.get(CustomerFeatures, customer_id)
    return facts_from_json(row.facts if row is not None else None)


async def save_facts(
    session: AsyncSession, customer_id: str, facts: CustomerFacts, at: datetime
) -> None:
    row = await session.get(CustomerFeatures, customer_id)
    if row is None:
        session.add(
            CustomerFeatures(customer_id=customer_id, facts=facts_to_json(facts), updated_at=at)
        )
        return
    row.facts = facts_to_json(facts)
    row.updated_at = at


async def tags_of(session: AsyncSession, customer_id: str) -> dict[str, datetime]:
    """The customer's current tags and since when each has held."""
    rows = await session.execute(
        select(CustomerTag.tag, CustomerTag.since).where(CustomerTag.customer_id == customer_id)
    )
    return {tag: since for tag, since in rows}


async def apply_tag_change(
    session: AsyncSession, customer_id: str, change: TagChange, at: datetime
) -> None:
    if change.removed:
        await session.execute(
            delete(CustomerTag).where(
                CustomerTag.customer_id == customer_id, CustomerTag.tag.in_(change.removed)
            )
        )
    session.add_all(CustomerTag(customer_id=customer_id, tag=tag, since=at) for tag in change.added)
    await session.flush()


async def drop_profiling(session: AsyncSession, customer_id: str) -> None:
    """Erasure: the customer's behaviour facts and tags go, and so do the customer's
    profile.tagged events still waiting in the outbox (profiling data about someone every
    consumer is about to be told to erase)."""
    await session.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer_id))
    await session.execute(
        delete(outbox).where(outbox.c.topic == "profile.tagged", outbox.c.key == customer_id)
    )
    await session.execute(
        delete(CustomerFeatures).where(CustomerFeatures.customer_id == customer_id)
    )


async def member_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(CustomerTag.tag, func.count()).group_by(CustomerTag.tag))
    return {tag: count for tag, count in rows}


async def due_for_review(session: AsyncSession, now: datetime, limit: int) -> Sequence[str]:
    """Customers whose tags time alone may have changed by ``now``, most overdue first."""
    rows = await session.scalars(
        select(Customer.customer_id)
        .where(Customer.tags_review_at <= now, Customer.erased_at.is_(None))
        .order_by(Customer.tags_review_at, Customer.customer_id)
        .limit(limit)
    )
    return rows.all()


@dataclass(frozen=True)
class CustomerRow:
    customer: Customer
    tags: dict[str, datetime]


@dataclass(frozen=True)
class CustomerPage:
    rows: Sequence[CustomerRow]
    next_after: str | None


async def customers_page(
    session: AsyncSession, *, tag: str | None, after: str | None, limit: int
) -> CustomerPage:
    """Customers (with ``tag``, if given) in customer-id order, ``limit`` after ``after``."""
    query = select(Customer)
    if tag is not None:
        query = query.join(
            CustomerTag,
            (CustomerTag.customer_id == Customer.customer_id) & (CustomerTag.tag == tag),
        )
    if after is not None:
        query = query.where(Customer.customer_id > after)
    found = (await session.scalars(query.order_by(Customer.customer_id).limit(limit + 1))).all()
    page = found[:limit]
    tags = await _tags_of_many(session, [c.customer_id for c in page])
    rows = [CustomerRow(c, tags.get(c.customer_id, {})) for c in page]
    return CustomerPage(rows, page[-1].customer_id if len(found) > limit else None)


async def _tags_of_many(
    session: AsyncSession, customer_ids: Iterable[str]
) -> dict[str, dict[str, datetime]]:
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(CustomerTag.customer_id, CustomerTag.tag, CustomerTag.since).where(
            CustomerTag.customer_id.in_(ids)
        )
    )
    found: dict[str, dict[str, datetime]] = {}
    for customer_id, tag, since in rows:
        found.setdefault(customer_id, {})[tag] = since
    return found
