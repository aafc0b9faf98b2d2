"""Lots: each credit of points is a lot that expires a fixed number of calendar years later.

Lots are spent oldest first (by `earned_at`, then by lot id: the same order however the lots
were loaded or created).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.loyalty.rules.business_time import add_calendar_years
from services.loyalty.rules.ledger import LotAllocation, NewLot


@dataclass(slots=True)
class Lot:
    lot_id: str
    points: int
    remaining: int
    earned_at: datetime
    expires_at: datetime

    @classmethod
    def open(cls, lot_id: str, points: int, earned_at: datetime, lifetime_years: int) -> Lot:
        # Calendar years in UTC: a lot earned at an instant expires at the same UTC clock
        # time three years on (Feb 29 -> Feb 28), so "exactly 3 years" is one instant.
        expires_at = add_calendar_years(earned_at, lifetime_years)
        return cls(lot_id, points, points, earned_at, expires_at)

    def as_new_lot(self) -> NewLot:
        return NewLot(self.lot_id, self.points, self.earned_at, self.expires_at)

    def is_due(self, now: datetime) -> bool:
        return self.remaining > 0 and self.expires_at <= now


def oldest_first(lots: Iterable[Lot]) -> list[Lot]:
    return sorted(lots, key=lambda lot: (lot.earned_at, lot.lot_id))


def take_from_lots(
    lots: Sequence[Lot], points: int, first_lot_ids: tuple[str, ...] = ()
) -> tuple[LotAllocation, ...]:
    """Take up to `points` out of `lots`, oldest first, but `first_lot_ids` before the others.

    Lots are changed in place; what could not be found in them is left to the caller
    (a redemption refuses it beforehand, a clawback turns it into debt).
    """
    ordered = oldest_first(lots)
    ordered.sort(key=lambda lot: lot.lot_id not in first_lot_ids)
    allocations: list[LotAllocation] = []
    still_needed = points
    for lot in ordered:
        if still_needed == 0:
            break
        taken = min(lot.remaining, still_needed)
        if taken > 0:
            lot.remaining -= taken
            still_needed -= taken
            allocations.append(LotAllocation(lot.lot_id, taken))
    return tuple(allocations)


def due_lots(lots: Iterable[Lot], now: datetime) -> list[Lot]:
    return [lot for lot in oldest_first(lots) if lot.is_due(now)]


def points_expiring_within(lots: Iterable[Lot], now: datetime, window: timedelta) -> int:
    """Points in lots that are still open at `now` and expire no later than `now + window`."""
    horizon = now + window
    return sum(lot.remaining for lot in lots if now < lot.expires_at <= horizon)
