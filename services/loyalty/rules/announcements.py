"""What loyalty announces: the event each ledger entry and each tier change gives rise to.

Earn, release and a positive adjustment -> points.earned; a new hold -> points.held;
expire -> points.expired; redeem -> points.redeemed; a tier change -> tier.changed.
Clawbacks, cancelled holds, hold reductions and negative adjustments have no event type in
the contract; they are in the ledger. Each event is dated by the business time of its fact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from services.loyalty.rules.business_time import business_day
from services.loyalty.rules.ledger import EntryKind, LedgerEntry, Totals
from services.loyalty.rules.rulebook import Rulebook
from services.loyalty.rules.tiers import TierChange
from shared.events.catalogue import (
    CustomerEventData,
    PointsEarned,
    PointsExpired,
    PointsHeld,
    PointsRedeemed,
    TierChanged,
)

ANNOUNCED = (PointsEarned, PointsHeld, PointsExpired, PointsRedeemed, TierChanged)
"""Every type loyalty publishes."""


@dataclass(frozen=True, slots=True)
class Announcement:
    data: CustomerEventData
    time: datetime


def announcements(
    entries: Sequence[LedgerEntry],
    totals: Sequence[Totals],
    rulebook: Rulebook,
    tier_change: TierChange | None = None,
    *,
    customer_id: str,
) -> list[Announcement]:
    """The events of one operation, in the order of its entries, the tier change last.
    `totals` are the account's totals right after each entry."""
    found = [
        announcement
        for entry, after in zip(entries, totals, strict=True)
        if (announcement := entry_announcement(entry, after, rulebook)) is not None
    ]
    if tier_change is not None:
        found.append(tier_change_announcement(customer_id, tier_change))
    return found


def entry_announcement(
    entry: LedgerEntry, after: Totals, rulebook: Rulebook
) -> Announcement | None:
    kind, customer_id = entry.kind, entry.customer_id
    data: CustomerEventData
    if kind in (EntryKind.EARN, EntryKind.RELEASE) or (
        kind is EntryKind.ADJUST and entry.points > 0
    ):
        data = PointsEarned(
            customer_id=customer_id,
            points=entry.points,
            reason=str(entry.reason),
            source_id=entry.source_id,
            rule_version=entry.rule_version,
            expires_at=entry.new_lot.expires_at if entry.new_lot else None,
            balance=after.balance,
        )
    elif kind is EntryKind.HOLD and entry.points > 0:
        data = PointsHeld(
            customer_id=customer_id,
            points=entry.points,
            source_id=entry.source_id,
            business_day=business_day(entry.business_time, rulebook.business_timezone),
        )
    elif kind is EntryKind.EXPIRE:
        data = PointsExpired(customer_id=customer_id, points=-entry.points, balance=after.balance)
    elif kind is EntryKind.REDEEM:
        data = PointsRedeemed(
            customer_id=customer_id,
            points=-entry.points,
            redemption_id=entry.source_id,
            coupon_value=rulebook.coupon_value(-entry.points),
            balance=after.balance,
        )
    else:
        return None
    return Announcement(data, entry.business_time)


def tier_change_announcement(customer_id: str, change: TierChange) -> Announcement:
    upgrade = change.new_tier.rank > change.old_tier.rank
    data = TierChanged(
        customer_id=customer_id,
        old_tier=change.old_tier.value,
        new_tier=change.new_tier.value,
        net_spend_12m=change.net_spend,
        reason="upgrade" if upgrade else "downgrade_review",
    )
    return Announcement(data, change.changed_at)
