"""Reads for the API's lists: customers (by tag) a page at a time, and tag sizes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.profile.models import Customer, CustomerTag


async def member_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(CustomerTag.tag, func.count()).group_by(CustomerTag.tag))
    return {tag: count for tag, count in rows}


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
