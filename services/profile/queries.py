"""Read side of the API: the customer 360, customers by tag, and the catalogue with counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import listing, store
from services.profile.models import Customer
from services.profile.profiling import Profiler
from services.profile.summary import Activity, activity
from services.profile.tagging import TagCatalogue, TagDefinition
from shared.errors import NotFound


@dataclass(frozen=True)
class Customer360:
    customer: Customer
    tags: dict[str, datetime]
    silenced: bool
    activity: Activity


@dataclass(frozen=True)
class TagSize:
    tag: TagDefinition
    member_count: int


async def customer_360(
    session: AsyncSession, customer_id: str, *, profiler: Profiler, now: datetime
) -> Customer360:
    """The customer as of ``now`` (never before their last evaluation); 404 if never heard of."""
    customer = await store.find_customer(session, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    as_of = profiler.moment(customer, now)
    facts = await store.load_facts(session, customer_id)
    return Customer360(
        customer=customer,
        tags=await store.tags_of(session, customer_id),
        silenced=customer.silenced_until is not None and customer.silenced_until > now,
        activity=activity(profiler.inputs(customer, facts, as_of)),
    )


async def customers(
    session: AsyncSession, *, tag: str | None, after: str | None, limit: int
) -> listing.CustomerPage:
    return await listing.customers_page(session, tag=tag, after=after, limit=limit)


async def tag_sizes(session: AsyncSession, catalogue: TagCatalogue) -> list[TagSize]:
    counts = await listing.member_counts(session)
    return [TagSize(tag, counts.get(tag.name, 0)) for tag in catalogue.tags]
