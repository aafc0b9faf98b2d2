"""The tier read model: which tier.changed ticketing keeps for a customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.ticketing.rules.values import Tier, require_aware


@dataclass(frozen=True)
class KnownTier:
    """The customer's tier as of `changed_at`, the time of the tier.changed it came from."""

    tier: Tier
    changed_at: datetime


def learn_tier(known: KnownTier | None, tier: Tier, changed_at: datetime) -> KnownTier | None:
    """The tier to keep after a tier.changed at `changed_at`, or None when that event is stale:
    a later change is already kept (events may arrive out of order; the newest wins, and one
    at the same moment as the kept one replaces it)."""
    require_aware("changed_at", changed_at)
    if known is not None and changed_at < known.changed_at:
        return None
    return KnownTier(tier, changed_at)
