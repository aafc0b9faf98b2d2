"""Loading and saving the profile service's rows; no business rules here.

What the event handlers read is read once per transaction and kept, with what they change, in
``transaction_rows`` (see there): the commit writes the changes of a whole run of events. The
API's lists read in ``listing.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ScalarSelect, delete, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.facts import CustomerFacts
from services.profile.facts_codec import facts_from_json, facts_to_json
from services.profile.models import Customer, CustomerFeatures, CustomerTag, TicketState
from services.profile.tagging import TagChange
from services.profile.transaction_rows import transaction_rows
from shared.tables import outbox

# Tag names are snake_case (catalogue.py): a space never occurs in one.
_TAG_SEPARATOR = " "


async def find_customer(
    session: AsyncSession, customer_id: str, *, lock: bool = False
) -> Customer | None:
    """The customer row; ``lock`` holds it (FOR UPDATE) against a concurrent re-evaluation."""
    return await session.get(Customer, customer_id, with_for_update=True if lock else None)


async def lock_customer(
    session: AsyncSession, customer_id: str, *, ticket_id: str | None = None
) -> Customer | None:
    """The customer, locked (FOR UPDATE) for the rest of the transaction and read in one
    statement with their facts and tag names, and with the ticket ``ticket_id`` if given (by
    id, whoever it belongs to); a customer this transaction already locked is not read again."""
    rows = transaction_rows(session)
    if customer_id in rows.customers:
        return rows.customers[customer_id]
    query = (
        select(Customer, CustomerFeatures, _tag_names_of_customer())
        .outerjoin(CustomerFeatures, CustomerFeatures.customer_id == Customer.customer_id)
        .where(Customer.customer_id == customer_id)
        .with_for_update(of=Customer)
    )
    unread_ticket = ticket_id if ticket_id not in rows.tickets else None
    if unread_ticket is not None:
        query = query.add_columns(TicketState).outerjoin(
            TicketState, TicketState.ticket_id == unread_ticket
        )
    row = (await session.execute(query)).one_or_none()
    if row is None:
        return None
    customer, features, tag_names = row[:3]
    rows.customers[customer_id] = customer
    rows.features.setdefault(customer_id, features)
    rows.tags.setdefault(customer_id, _stored_tags(tag_names))
    if unread_ticket is not None:
        rows.tickets[unread_ticket] = row.TicketState
    return customer


def _tag_names_of_customer() -> ScalarSelect[str | None]:
    """The selected customer's tag names joined by ``_TAG_SEPARATOR``; NULL without tags."""
    return (
        select(func.aggregate_strings(CustomerTag.tag, _TAG_SEPARATOR))
        .where(CustomerTag.customer_id == Customer.customer_id)
        .scalar_subquery()
    )


def _stored_tags(tag_names: str | None) -> dict[str, CustomerTag | None]:
    return dict.fromkeys(tag_names.split(_TAG_SEPARATOR) if tag_names else ())


async def customer_for_event(
    session: AsyncSession, customer_id: str, at: datetime, *, ticket_id: str | None = None
) -> Customer:
    """The customer an event is about, locked (read with the event's ticket, if it has one); a
    customer first heard of is created."""
    customer = await lock_customer(session, customer_id, ticket_id=ticket_id)
    if customer is None:
        customer = Customer(customer_id=customer_id, consents={}, updated_at=at, open_tickets=0)
        session.add(customer)
        rows = transaction_rows(session)
        rows.customers[customer_id] = customer
        # A new customer has no facts and no tags yet: nothing to read.
        rows.features[customer_id] = None
        rows.tags[customer_id] = {}
    return customer


async def _ticket_state(session: AsyncSession, ticket_id: str) -> TicketState | None:
    tickets = transaction_rows(session).tickets
    if ticket_id not in tickets:
        tickets[ticket_id] = await session.get(TicketState, ticket_id)
    return tickets[ticket_id]


def _add_ticket_state(session: AsyncSession, state: TicketState) -> None:
    session.add(state)
    transaction_rows(session).tickets[state.ticket_id] = state


async def mark_ticket_opened(
    session: AsyncSession, customer_id: str, ticket_id: str, at: datetime
) -> int:
    """Record a ticket's opening; returns by how much the open-ticket count changes (0 or 1)."""
    state = await _ticket_state(session, ticket_id)
    if state is None:
        _add_ticket_state(
            session, TicketState(ticket_id=ticket_id, customer_id=customer_id, opened_at=at)
        )
        return 1
    if state.opened_at is None:
        state.opened_at = at  # resolved before its opening arrived: it was never open here
    return 0


async def mark_ticket_resolved(
    session: AsyncSession, customer_id: str, ticket_id: str, at: datetime
) -> int:
    """Record a ticket's resolution; returns the change of the open-ticket count (0 or -1)."""
    state = await _ticket_state(session, ticket_id)
    if state is None:
        _add_ticket_state(
            session, TicketState(ticket_id=ticket_id, customer_id=customer_id, resolved_at=at)
        )
        return 0
    if state.resolved_at is not None:
        return 0
    state.resolved_at = at
    return -1 if state.opened_at is not None else 0


async def _features_row(session: AsyncSession, customer_id: str) -> CustomerFeatures | None:
    features = transaction_rows(session).features
    if customer_id not in features:
        features[customer_id] = await session.get(CustomerFeatures, customer_id)
    return features[customer_id]


async def load_facts(session: AsyncSession, customer_id: str) -> CustomerFacts:
    row = await _features_row(session, customer_id)
    return facts_from_json(row.facts if row is not None else None)


async def save_facts(
    session: AsyncSession, customer_id: str, facts: CustomerFacts, at: datetime
) -> None:
    row = await _features_row(session, customer_id)
    if row is None:
        row = CustomerFeatures(customer_id=customer_id, facts=facts_to_json(facts), updated_at=at)
        session.add(row)
        transaction_rows(session).features[customer_id] = row
        return
    row.facts = facts_to_json(facts)
    row.updated_at = at


async def _tags_in_hand(session: AsyncSession, customer_id: str) -> dict[str, CustomerTag | None]:
    tags = transaction_rows(session).tags
    if customer_id not in tags:
        found = await session.scalars(
            select(CustomerTag.tag).where(CustomerTag.customer_id == customer_id)
        )
        tags[customer_id] = dict.fromkeys(found)
    return tags[customer_id]


async def tag_names(session: AsyncSession, customer_id: str) -> frozenset[str]:
    """The customer's current tags, as this transaction left them."""
    return frozenset(await _tags_in_hand(session, customer_id))


async def tags_of(session: AsyncSession, customer_id: str) -> dict[str, datetime]:
    """The customer's current tags and since when each has held (as stored)."""
    rows = await session.execute(
        select(CustomerTag.tag, CustomerTag.since).where(CustomerTag.customer_id == customer_id)
    )
    return {tag: since for tag, since in rows}


async def apply_tag_change(
    session: AsyncSession, customer_id: str, change: TagChange, at: datetime
) -> None:
    tags = await _tags_in_hand(session, customer_id)
    stored_removed = [tag for tag in change.removed if tags[tag] is None]
    if stored_removed:
        await session.execute(
            delete(CustomerTag).where(
                CustomerTag.customer_id == customer_id, CustomerTag.tag.in_(stored_removed)
            )
        )
    for tag in change.removed:
        added_here = tags.pop(tag)
        if added_here is not None:
            await _discard(session, added_here)
    for tag in change.added:
        added = tags[tag] = CustomerTag(customer_id=customer_id, tag=tag, since=at)
        session.add(added)


async def _discard(session: AsyncSession, row: CustomerTag) -> None:
    """Delete a row this transaction added: drop it if it was not flushed yet."""
    if inspect(row).pending:
        session.expunge(row)
    else:
        await session.delete(row)


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
    transaction_rows(session).forget_profiling(customer_id)


async def due_for_review(session: AsyncSession, now: datetime, limit: int) -> Sequence[str]:
    """Customers whose tags time alone may have changed by ``now``, most overdue first."""
    rows = await session.scalars(
        select(Customer.customer_id)
        .where(Customer.tags_review_at <= now, Customer.erased_at.is_(None))
        .order_by(Customer.tags_review_at, Customer.customer_id)
        .limit(limit)
    )
    return rows.all()
