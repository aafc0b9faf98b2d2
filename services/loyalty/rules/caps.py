"""The daily earn cap: points beyond it on one business day are held for review, not lost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.loyalty.rules.errors import RefusedByRules
from services.loyalty.rules.ledger import EntryKind, EntryReason, LedgerEntry


@dataclass(frozen=True, slots=True)
class CapSplit:
    credited: int
    held: int


def split_by_daily_cap(points: int, earned_today: int, daily_cap: int) -> CapSplit:
    """Split an earn of `points` into what fits under the cap today and what is held.

    `earned_today` is what the customer was already credited (not held) on this business day.
    """
    if points < 0 or earned_today < 0 or daily_cap < 0:
        raise RefusedByRules("points, earned_today and daily_cap must not be negative")
    room_left = max(0, daily_cap - earned_today)
    credited = min(points, room_left)
    return CapSplit(credited=credited, held=points - credited)


@dataclass(slots=True)
class Hold:
    """Points over the cap awaiting an admin's release or cancellation.

    `points` is what is still pending; a refund of the order may reduce it. `held_at` is the
    business time of the earn: released points expire counting from it, like any earn.
    """

    hold_id: str
    points: int
    held_at: datetime
    reason: EntryReason
    source_id: str
    order_id: str | None
    rule_version: int


HoldSettlement = Literal["released", "cancelled", "refunded"]


def hold_settlement(hold_id: str, entries: Sequence[LedgerEntry]) -> tuple[HoldSettlement, int]:
    """How a hold that is no longer pending was settled by `entries`, and the points it
    settled with: released in full, cancelled, or emptied by refunds of its order."""
    for entry in reversed(entries):
        if entry.hold_id != hold_id:
            continue
        if entry.kind is EntryKind.RELEASE:
            return "released", entry.points
        if entry.reason is EntryReason.HOLD_CANCELLED:
            return "cancelled", -entry.points
        if entry.reason is EntryReason.REFUND:
            return "refunded", 0
    raise RuntimeError(f"hold {hold_id!r} left the account without a ledger entry")
