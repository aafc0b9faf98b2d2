"""Erasure, the one write of the API."""

from __future__ import annotations

from services.profile.commands.profiling import reassess_and_save
from services.profile.context import ProfileContext
from services.profile.repository import customers
from services.profile.rules.customer import erased
from services.profile.rules.evaluation import CustomerState
from shared.errors import NotFound
from shared.events.catalogue import CustomerErased
from shared.transaction import Transaction


async def erase_customer(tx: Transaction, ctx: ProfileContext, customer_id: str) -> None:
    """Remove the customer's personal data, consents, behaviour facts and tags, and publish
    customer.erased, as of ``tx.now``. Erasing an erased customer changes nothing and
    publishes nothing; an unknown customer is 404."""
    stored = (await customers.lock_customers(tx, [customer_id])).get(customer_id)
    if stored is None:
        raise NotFound("customer", customer_id)
    after = erased(stored.profile, tx.now)
    if after is None:
        return
    tx.erase()
    await customers.drop_profiling(tx, customer_id)
    await reassess_and_save(tx, ctx, [(stored, CustomerState(after), tx.now)])
    await tx.outbox.publish(CustomerErased(customer_id=customer_id, erased_at=tx.now), time=tx.now)
