"""Which accounts a sweep's next chunk takes: due ones, in customer order after `after`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.repository.rows import ACCOUNTS, LOTS


async def customers_with_due_lots(
    session: AsyncSession, now: datetime, after: str, limit: int
) -> list[str]:
    query = (
        select(LOTS.c.customer_id)
        .where(LOTS.c.remaining > 0, LOTS.c.expires_at <= now, LOTS.c.customer_id > after)
        .group_by(LOTS.c.customer_id)
        .order_by(LOTS.c.customer_id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def customers_due_for_review(
    session: AsyncSession, month: date, after: str, limit: int
) -> list[str]:
    """On PostgreSQL, accounts another transaction holds are skipped (the next sweep has
    them): two replicas sweeping at once share the work instead of waiting on each other."""
    query = (
        select(ACCOUNTS.c.customer_id)
        .where(ACCOUNTS.c.tier_reviewed_month < month, ACCOUNTS.c.customer_id > after)
        .order_by(ACCOUNTS.c.customer_id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))
