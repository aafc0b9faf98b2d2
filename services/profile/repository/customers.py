"""Customers and their tickets: rows <-> ``CustomerProfile`` and ``TicketStatus``.

Handlers lock a customer with one statement that also brings their facts, their tag names and,
for a ticket event, the ticket; what it read is kept in the transaction's ``RowsInHand``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select

from services.profile.models import Customer, CustomerFeatures, CustomerTag, TicketState
from services.profile.repository.in_hand import RowsInHand
from services.profile.repository.tags import stored_tags, tag_names_of_customer
from services.profile.rules.customer import CustomerProfile, TicketStatus, first_heard_of
from shared.tables import outbox
from shared.transaction import Transaction

PROFILE_COLUMNS = tuple(f.name for f in fields(CustomerProfile))


def profile_of(row: Customer) -> CustomerProfile:
    values: dict[str, Any] = {name: getattr(row, name) for name in PROFILE_COLUMNS}
    values["consents"] = dict(row.consents or {})
    values["open_tickets"] = row.open_tickets or 0
    return CustomerProfile(**values)


def save_profile(tx: Transaction, profile: CustomerProfile) -> None:
    """Write what changed of a profile this transaction locked or created."""
    row = tx.held(RowsInHand).customers[profile.customer_id]
    for name in PROFILE_COLUMNS:
        value = getattr(profile, name)
        if getattr(row, name) != value:
            setattr(row, name, dict(value) if name == "consents" else value)


async def find_profile(tx: Transaction, customer_id: str) -> CustomerProfile | None:
    """The customer as stored (or as this transaction left them), without a lock."""
    held = tx.held(RowsInHand).customers.get(customer_id)
    row = held or await tx.session.get(Customer, customer_id)
    return None if row is None else profile_of(row)


async def lock_profile(
    tx: Transaction, customer_id: str, *, ticket_id: str | None = None
) -> CustomerProfile | None:
    """The customer, locked (FOR UPDATE) for the rest of the transaction and read in one
    statement with their facts and tag names, and with the ticket ``ticket_id`` if given (by
    id, whoever it belongs to); a customer this transaction already locked is not read again."""
    rows = tx.held(RowsInHand)
    if customer_id in rows.customers:
        return profile_of(rows.customers[customer_id])
    query = _customers_with_facts_and_tags().where(Customer.customer_id == customer_id)
    unread_ticket = ticket_id if ticket_id not in rows.tickets else None
    if unread_ticket is not None:
        query = query.add_columns(TicketState).outerjoin(
            TicketState, TicketState.ticket_id == unread_ticket
        )
    row = (await tx.session.execute(query)).one_or_none()
    if row is None:
        return None
    customer = _keep(rows, row)
    if unread_ticket is not None:
        rows.tickets[unread_ticket] = row.TicketState
    return profile_of(customer)


async def lock_profiles(tx: Transaction, customer_ids: Sequence[str]) -> list[CustomerProfile]:
    """The customers found of ``customer_ids``, in that order, locked and read in one statement
    with their facts and tag names (those this transaction holds already are not read again)."""
    rows = tx.held(RowsInHand)
    unread = [c for c in customer_ids if c not in rows.customers]
    if unread:
        query = _customers_with_facts_and_tags().where(Customer.customer_id.in_(unread))
        for row in (await tx.session.execute(query)).all():
            _keep(rows, row)
    return [profile_of(rows.customers[c]) for c in customer_ids if c in rows.customers]


def _customers_with_facts_and_tags() -> Select[Customer, CustomerFeatures, str | None]:
    return (
        select(Customer, CustomerFeatures, tag_names_of_customer())
        .outerjoin(CustomerFeatures, CustomerFeatures.customer_id == Customer.customer_id)
        .with_for_update(of=Customer)
    )


def _keep(rows: RowsInHand, row: Any) -> Customer:
    """Hold a row of ``_customers_with_facts_and_tags``; the customer."""
    customer: Customer = row[0]
    rows.customers[customer.customer_id] = customer
    rows.features.setdefault(customer.customer_id, row[1])
    rows.tags.setdefault(customer.customer_id, stored_tags(row[2]))
    return customer


async def profile_for_event(
    tx: Transaction, customer_id: str, at: datetime, *, ticket_id: str | None = None
) -> CustomerProfile:
    """The customer an event is about, locked (read with the event's ticket, if it has one); a
    customer first heard of is created."""
    profile = await lock_profile(tx, customer_id, ticket_id=ticket_id)
    if profile is not None:
        return profile
    profile = first_heard_of(customer_id, at)
    customer = Customer(
        customer_id=customer_id, consents={}, updated_at=at, open_tickets=profile.open_tickets
    )
    tx.session.add(customer)
    rows = tx.held(RowsInHand)
    rows.customers[customer_id] = customer
    # A new customer has no facts and no tags yet: nothing to read.
    rows.features[customer_id] = None
    rows.tags[customer_id] = {}
    return profile


async def ticket_status(tx: Transaction, ticket_id: str) -> TicketStatus | None:
    tickets = tx.held(RowsInHand).tickets
    if ticket_id not in tickets:
        tickets[ticket_id] = await tx.session.get(TicketState, ticket_id)
    row = tickets[ticket_id]
    return None if row is None else TicketStatus(row.opened_at, row.resolved_at)


def save_ticket_status(
    tx: Transaction, customer_id: str, ticket_id: str, status: TicketStatus
) -> None:
    """Write a ticket's status (``ticket_status`` read it before)."""
    tickets = tx.held(RowsInHand).tickets
    row = tickets[ticket_id]
    if row is None:
        row = tickets[ticket_id] = TicketState(ticket_id=ticket_id, customer_id=customer_id)
        tx.session.add(row)
    if row.opened_at != status.opened_at:
        row.opened_at = status.opened_at
    if row.resolved_at != status.resolved_at:
        row.resolved_at = status.resolved_at


async def drop_profiling(tx: Transaction, customer_id: str) -> None:
    """Erasure: the customer's behaviour facts and tags go, and so do the customer's
    profile.tagged events still waiting in the outbox (profiling data about someone every
    consumer is about to be told to erase)."""
    session = tx.session
    # Rows this transaction added and has not written yet would escape the bulk deletes.
    await session.flush()
    await session.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer_id))
    await session.execute(
        delete(outbox).where(outbox.c.topic == "profile.tagged", outbox.c.key == customer_id)
    )
    await session.execute(
        delete(CustomerFeatures).where(CustomerFeatures.customer_id == customer_id)
    )
    tx.held(RowsInHand).forget_profiling(customer_id)


async def due_for_review(tx: Transaction, now: datetime, limit: int) -> Sequence[str]:
    """Customers whose tags time alone may have changed by ``now``, most overdue first."""
    rows = await tx.session.scalars(
        select(Customer.customer_id)
        .where(Customer.tags_review_at <= now, Customer.erased_at.is_(None))
        .order_by(Customer.tags_review_at, Customer.customer_id)
        .limit(limit)
    )
    return rows.all()
