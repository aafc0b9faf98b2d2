"""Commands from the API: erasure."""

from __future__ import annotations

from services.profile.repository import customers
from services.profile.rules.customer import erased
from shared.errors import NotFound
from shared.events.catalogue import CustomerErased
from shared.transaction import Transaction


async def erase_customer(tx: Transaction, customer_id: str) -> None:
    """Remove the customer's personal data, consents, behaviour facts and tags, and publish
    customer.erased, as of ``tx.now``. Erasing an erased customer changes nothing and
    publishes nothing; an unknown customer is 404."""
    profile = await customers.lock_profile(tx, customer_id)
    if profile is None:
        raise NotFound("customer", customer_id)
    after = erased(profile, tx.now)
    if after is None:
        return
    customers.save_profile(tx, after)
    await customers.drop_profiling(tx, customer_id)
    await tx.outbox.publish(CustomerErased(customer_id=customer_id, erased_at=tx.now), time=tx.now)
