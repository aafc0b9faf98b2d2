"""Read side of the API, on read-only sessions: the customer 360 (one primary-key read of its
document), customers (by tag) a page at a time, and the catalogue's tags with their member
counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import Table, Text, bindparam, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import Customer, CustomerTag
from services.profile.repository.tags import tags_of_many
from services.profile.rules.tags import TagCatalogue, TagDefinition
from shared.keyed_reads import KeyedReads
from shared.pagination import next_cursor

_customers = cast(Table, Customer.__table__)
# Built once: building and keying a statement per request costs more than its execution.
# The document as its text: decoded by orjson here, whichever way it was read.
THE_360 = select(sql_cast(_customers.c.customer_360, Text)).where(
    _customers.c.customer_id == bindparam("customer_id")
)


async def customer_360(reads: KeyedReads, customer_id: str) -> dict[str, Any] | None:
    """The customer's 360 document as the handlers left it; None for a customer never heard
    of."""
    return _document(await reads.value(THE_360, {"customer_id": customer_id}))


async def customer_360_in(session: AsyncSession, customer_id: str) -> dict[str, Any] | None:
    """``customer_360`` inside a transaction (as an erasure left it)."""
    result = await session.execute(THE_360, {"customer_id": customer_id})
    return _document(result.scalar_one_or_none())


def _document(text: str | None) -> dict[str, Any] | None:
    document: dict[str, Any] | None = None if text is None else orjson.loads(text)
    return document


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
    session: AsyncSession, *, tag: str | None, after: str | None, limit: int
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
    found = (await session.execute(query.order_by(Customer.customer_id).limit(limit + 1))).all()
    page = found[:limit]
    tags_by_customer = await tags_of_many(session, [row.customer_id for row in page])
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


@dataclass(frozen=True)
class TagSize:
    tag: TagDefinition
    member_count: int


async def tag_sizes(session: AsyncSession, catalogue: TagCatalogue) -> list[TagSize]:
    rows = await session.execute(select(CustomerTag.tag, func.count()).group_by(CustomerTag.tag))
    counts: dict[str, int] = {tag: count for tag, count in rows}
    return [TagSize(tag, counts.get(tag.name, 0)) for tag in catalogue.tags]
