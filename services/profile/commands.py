"""Commands from the API: erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import store
from services.profile.handlers import PERSONAL_FIELDS
from services.profile.models import Customer
from shared.errors import NotFound
from shared.events.catalogue import CustomerErased
from shared.events.envelope import new_event
from shared.outbox import add_event


async def erase_customer(
    session: AsyncSession, customer_id: str, *, now: datetime, source: str
) -> Customer:
    """Remove the customer's personal data, consents, behaviour facts and tags, and publish
    customer.erased. Erasing an erased customer changes nothing and publishes nothing."""
    customer = await store.find_customer(session, customer_id, lock=True)
    if customer is None:
        raise NotFound("customer", customer_id)
    if customer.erased_at is not None:
        return customer
    for field in PERSONAL_FIELDS:
        setattr(customer, field, None)
    customer.consents = {}
    customer.erased_at = now
    customer.updated_at = max(customer.updated_at, now)
    customer.tags_review_at = None
    await store.drop_profiling(session, customer_id)
    erased = CustomerErased(customer_id=customer_id, erased_at=now)
    await add_event(
        session,
        new_event("customer.erased", source=source, time=now, subject=customer_id, data=erased),
        now=now,
    )
    return customer
