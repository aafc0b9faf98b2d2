"""Events loyalty publishes, written to the outbox in the transaction of the change.

From ledger rows: earn and release -> points.earned, a new hold -> points.held,
expire -> points.expired, redeem -> points.redeemed. Clawbacks, cancelled holds and hold
reductions have no event type in the contract; they are in the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.domain import EntryKind, LoyaltyRules, TierChange, business_day
from services.loyalty.models import LedgerEntryRow
from services.loyalty.settings import LoyaltySettings
from shared.events.catalogue import (
    PointsEarned,
    PointsExpired,
    PointsHeld,
    PointsRedeemed,
    TierChanged,
)
from shared.events.envelope import new_event
from shared.outbox import add_event

EVENT_SOURCE = f"loopcrm/{LoyaltySettings.service_name}"
_CENT = Decimal("0.01")


async def announce_entries(
    session: AsyncSession, rows: Sequence[LedgerEntryRow], rules: LoyaltyRules, now: datetime
) -> None:
    for row in rows:
        event = _event_for(row, rules)
        if event is not None:
            event_type, data = event
            await _add(session, event_type, row.customer_id, row.business_time, data, now)


async def announce_tier_change(
    session: AsyncSession, customer_id: str, change: TierChange, now: datetime
) -> None:
    upgrade = change.new_tier.rank > change.old_tier.rank
    data = TierChanged(
        customer_id=customer_id,
        old_tier=change.old_tier.value,
        new_tier=change.new_tier.value,
        net_spend_12m=change.net_spend,
        reason="upgrade" if upgrade else "downgrade_review",
    )
    await _add(session, "tier.changed", customer_id, change.changed_at, data, now)


def coupon_value(points: int, rules: LoyaltyRules) -> Decimal:
    return (Decimal(points) / Decimal(rules.points_per_coupon_yuan)).quantize(_CENT)


def _event_for(row: LedgerEntryRow, rules: LoyaltyRules) -> tuple[str, BaseModel] | None:
    kind, customer_id = EntryKind(row.kind), row.customer_id
    if kind in (EntryKind.EARN, EntryKind.RELEASE) or (kind is EntryKind.ADJUST and row.points > 0):
        return "points.earned", PointsEarned(
            customer_id=customer_id,
            points=row.points,
            reason=row.reason,
            source_id=row.source_id,
            rule_version=row.rule_version,
            expires_at=row.lot_expires_at,
            balance=row.balance_after,
        )
    if kind is EntryKind.HOLD and row.points > 0:
        return "points.held", PointsHeld(
            customer_id=customer_id,
            points=row.points,
            source_id=row.source_id,
            business_day=business_day(row.business_time, rules.business_timezone),
        )
    if kind is EntryKind.EXPIRE:
        return "points.expired", PointsExpired(
            customer_id=customer_id, points=-row.points, balance=row.balance_after
        )
    if kind is EntryKind.REDEEM:
        return "points.redeemed", PointsRedeemed(
            customer_id=customer_id,
            points=-row.points,
            redemption_id=row.source_id,
            coupon_value=coupon_value(-row.points, rules),
            balance=row.balance_after,
        )
    return None


async def _add(
    session: AsyncSession,
    event_type: str,
    customer_id: str,
    time: datetime,
    data: BaseModel,
    now: datetime,
) -> None:
    event = new_event(event_type, source=EVENT_SOURCE, time=time, subject=customer_id, data=data)
    await add_event(session, event, now=now)
