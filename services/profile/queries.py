"""Read side of the API: the customer 360, customers (by tag) a page at a time, and the
catalogue's tags with their member counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from services.profile.models import Customer, CustomerTag
from services.profile.repository import customers, facts, tags
from services.profile.rules.customer import CustomerProfile, evaluation_moment, silenced
from services.profile.rules.evaluation import Tagging
from services.profile.rules.summary import Activity, activity
from services.profile.rules.tags import TagCatalogue, TagDefinition
from shared.errors import NotFound
from shared.pagination import next_cursor
from shared.transaction import Transaction


@dataclass(frozen=True)
class Customer360:
    profile: CustomerProfile
    tags: dict[str, datetime]
    silenced: bool
    activity: Activity


async def customer_360(tx: Transaction, tagging: Tagging, customer_id: str) -> Customer360:
    """The customer as of ``tx.now`` (the activity never before their last evaluation); 404
    for a customer never heard of."""
    profile = await customers.find_profile(tx, customer_id)
    if profile is None:
        raise NotFound("customer", customer_id)
    known = await facts.load_facts(tx, customer_id)
    as_of = evaluation_moment(profile, tx.now)
    return Customer360(
        profile=profile,
        tags=await tags.tags_of(tx, customer_id),
        silenced=silenced(profile, tx.now),
        activity=activity(tagging.inputs(profile, known, as_of)),
    )


@dataclass(frozen=True)
class ListedCustomer:
    """A customer in a listing: no personal data."""

    customer_id: str
    tier: str | None
    segment: str | None
    erased: bool
    tags: dict[str, datetime]


@dataclass(frozen=True)
class CustomerListing:
    customers: Sequence[ListedCustomer]
    next_cursor: str | None


async def customers_page(
    tx: Transaction, *, tag: str | None, after: str | None, limit: int
) -> CustomerListing:
    """Customers (with ``tag``, if given) in customer-id order, ``limit`` after ``after``."""
    query = select(Customer.customer_id, Customer.tier, Customer.segment, Customer.erased_at)
    if tag is not None:
        query = query.join(
            CustomerTag,
            (CustomerTag.customer_id == Customer.customer_id) & (CustomerTag.tag == tag),
        )
    if after is not None:
        query = query.where(Customer.customer_id > after)
    found = (await tx.session.execute(query.order_by(Customer.customer_id).limit(limit + 1))).all()
    page = found[:limit]
    tags_by_customer = await _tags_of_many(tx, [row.customer_id for row in page])
    listed = [
        ListedCustomer(
            customer_id=row.customer_id,
            tier=row.tier,
            segment=row.segment,
            erased=row.erased_at is not None,
            tags=tags_by_customer.get(row.customer_id, {}),
        )
        for row in page
    ]
    return CustomerListing(listed, next_cursor([row.customer_id for row in found], limit))


async def _tags_of_many(
    tx: Transaction, customer_ids: Iterable[str]
) -> dict[str, dict[str, datetime]]:
    ids = list(customer_ids)
    if not ids:
        return {}
    rows = await tx.session.execute(
        select(CustomerTag.customer_id, CustomerTag.tag, CustomerTag.since).where(
            CustomerTag.customer_id.in_(ids)
        )
    )
    found: dict[str, dict[str, datetime]] = {}
    for customer_id, tag, since in rows:
        found.setdefault(customer_id, {})[tag] = since
    return found


@dataclass(frozen=True)
class TagSize:
    tag: TagDefinition
    member_count: int


async def tag_sizes(tx: Transaction, catalogue: TagCatalogue) -> list[TagSize]:
    rows = await tx.session.execute(select(CustomerTag.tag, func.count()).group_by(CustomerTag.tag))
    counts: dict[str, int] = {tag: count for tag, count in rows}
    return [TagSize(tag, counts.get(tag.name, 0)) for tag in catalogue.tags]
