"""Profile's event and command handlers: load, apply, save, add outbox events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import Customer
from shared.errors import NotFound
from shared.events.catalogue import (
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
    TicketOpened,
    TicketResolved,
)
from shared.events.envelope import TypedEvent, new_event
from shared.outbox import add_event

_PERSONAL = ("name", "email", "phone", "birthday")


async def _get_or_create(session: AsyncSession, customer_id: str, at: datetime) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        customer = Customer(customer_id=customer_id, consents={}, updated_at=at, open_tickets=0)
        session.add(customer)
    return customer


def _apply_fields(customer: Customer, data: CustomerRegistered | CustomerUpdated) -> None:
    given = data.model_dump(exclude_unset=True, exclude={"customer_id"})
    if customer.erased_at is not None:
        given = {k: v for k, v in given.items() if k not in _PERSONAL}
    consents = given.pop("consents", None)
    for field, value in given.items():
        setattr(customer, field, value)
    if consents is not None:
        customer.consents = {**customer.consents, **consents}


async def on_customer_registered(
    session: AsyncSession, event: TypedEvent[CustomerRegistered]
) -> None:
    customer = await _get_or_create(session, event.data.customer_id, event.time)
    _apply_fields(customer, event.data)
    customer.registered_at = customer.registered_at or event.time
    customer.updated_at = max(customer.updated_at, event.time)


async def on_customer_updated(session: AsyncSession, event: TypedEvent[CustomerUpdated]) -> None:
    customer = await _get_or_create(session, event.data.customer_id, event.time)
    _apply_fields(customer, event.data)
    customer.updated_at = max(customer.updated_at, event.time)


async def on_ticket_opened(session: AsyncSession, event: TypedEvent[TicketOpened]) -> None:
    customer = await _get_or_create(session, event.data.customer_id, event.time)
    customer.open_tickets += 1


async def on_ticket_resolved(session: AsyncSession, event: TypedEvent[TicketResolved]) -> None:
    customer = await _get_or_create(session, event.data.customer_id, event.time)
    customer.open_tickets = max(0, customer.open_tickets - 1)


async def get_customer(session: AsyncSession, customer_id: str) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


async def erase_customer(
    session: AsyncSession, customer_id: str, *, now: datetime, source: str
) -> Customer:
    customer = await get_customer(session, customer_id)
    for field in _PERSONAL:
        setattr(customer, field, None)
    customer.erased_at = customer.erased_at or now
    customer.updated_at = now
    await add_event(
        session,
        new_event(
            "customer.erased",
            source=source,
            time=now,
            subject=customer_id,
            data=CustomerErased(customer_id=customer_id, erased_at=customer.erased_at),
        ),
        now=now,
    )
    return customer


def event_handlers() -> dict[str, Any]:
    return {
        "customer.registered": on_customer_registered,
        "customer.updated": on_customer_updated,
        "ticket.opened": on_ticket_opened,
        "ticket.resolved": on_ticket_resolved,
    }
