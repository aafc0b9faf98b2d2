"""The tier read model: each customer's tier as learned from tier.changed."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import CustomerTier
from services.ticketing.rules.tiers import KnownTier, learn_tier
from services.ticketing.rules.values import DEFAULT_TIER, Tier
from shared import bulk

customer_tiers = cast(Table, CustomerTier.__table__)


async def tier_of(session: AsyncSession, customer_id: str) -> Tier:
    known = await session.get(CustomerTier, customer_id)
    return Tier(known.tier) if known is not None else DEFAULT_TIER


class TierBook:
    """The known tiers of a run's customers: read with one query, learned in memory event by
    event, written with one upsert of those that changed."""

    def __init__(self, known: dict[str, KnownTier]) -> None:
        self._known = known
        self._learned: set[str] = set()

    @classmethod
    async def load(cls, session: AsyncSession, customer_ids: Collection[str]) -> TierBook:
        rows = await session.execute(
            select(
                customer_tiers.c.customer_id, customer_tiers.c.tier, customer_tiers.c.changed_at
            ).where(customer_tiers.c.customer_id.in_(list(customer_ids)))
        )
        return cls({row.customer_id: KnownTier(Tier(row.tier), row.changed_at) for row in rows})

    def tier_of(self, customer_id: str) -> Tier:
        known = self._known.get(customer_id)
        return known.tier if known is not None else DEFAULT_TIER

    def learn(self, customer_id: str, tier: Tier, changed_at: datetime) -> bool:
        """Keep the tier unless a later change is already kept; whether it was kept."""
        kept = learn_tier(self._known.get(customer_id), tier, changed_at)
        if kept is None:
            return False
        self._known[customer_id] = kept
        self._learned.add(customer_id)
        return True

    async def save(self, session: AsyncSession) -> None:
        """One upsert of every learned tier; its guard keeps the newest tier should another
        writer have stored a later one meanwhile."""
        rows = [
            {
                "customer_id": customer_id,
                "tier": str(self._known[customer_id].tier),
                "changed_at": self._known[customer_id].changed_at,
            }
            for customer_id in sorted(self._learned)
        ]
        self._learned.clear()
        await bulk.upsert(
            session, customer_tiers, rows, key=("customer_id",), unless_newer="changed_at"
        )
