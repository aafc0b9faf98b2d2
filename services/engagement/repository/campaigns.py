"""Campaigns and the segment members they reach."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement.models import Campaign, Customer, Message


async def find_campaign(session: AsyncSession, campaign_id: str) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def segment_members(session: AsyncSession, segment: str) -> Sequence[str]:
    """Current members of a segment (as `segment.changed` told), erased customers left out."""
    rows = await session.scalars(
        select(Customer.customer_id)
        .where(Customer.segment == segment, Customer.erased_at.is_(None))
        .order_by(Customer.customer_id)
    )
    return rows.all()


async def campaign_dedupe_keys(session: AsyncSession, campaign_id: str) -> set[str]:
    """The keys of the decisions a campaign's earlier dispatches made."""
    rows = await session.scalars(
        select(Message.dedupe_key).where(Message.campaign_id == campaign_id)
    )
    return {key for key in rows.all() if key is not None}
