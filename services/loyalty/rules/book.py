"""The points book of one customer: balance, lots and holds, and the only code that moves them.

Every movement returns the ledger entry that records it (see `ledger` for the kinds and the
invariants tying balance, held points and lots to the entries).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from services.loyalty.rules.business_time import as_utc, business_day
from services.loyalty.rules.caps import Hold, split_by_daily_cap
from services.loyalty.rules.errors import RefusedByRules, UnknownHold
from services.loyalty.rules.ledger import (
    EntryKind,
    EntryReason,
    LedgerEntry,
    LotAllocation,
    NewLot,
)
from services.loyalty.rules.lots import Lot, due_lots, points_expiring_within, take_from_lots
from services.loyalty.rules.rulebook import Rulebook


def released_lot_id(hold_id: str) -> str:
    return f"{hold_id}:released"


@dataclass(frozen=True, slots=True)
class Origin:
    """What an operation stems from: the source event or request id, its business time and
    the rulebook in force. `at` is normalised to UTC; a naive datetime is refused."""

    source_id: str
    at: datetime
    rulebook: Rulebook
    order_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", as_utc(self.at))

    def for_order(self, order_id: str | None) -> Origin:
        return Origin(self.source_id, self.at, self.rulebook, order_id)

    def at_time(self, at: datetime) -> Origin:
        return replace(self, at=at)


@dataclass(slots=True)
class PointsBook:
    """`lots` must hold every lot with points remaining; spent-out lots may be left out.
    `holds` holds the pending holds only. `earned_by_day` is the credited earns (kind earn) per
    business day, for the daily cap; the days that matter are enough."""

    customer_id: str
    balance: int = 0
    lots: list[Lot] = field(default_factory=list)
    holds: dict[str, Hold] = field(default_factory=dict)
    earned_by_day: dict[date, int] = field(default_factory=dict)

    @property
    def debt(self) -> int:
        return max(0, -self.balance)

    @property
    def held(self) -> int:
        return sum(hold.points for hold in self.holds.values())

    def available_at(self, at: datetime) -> int:
        """Points a redemption at `at` may take: the balance less lots due by then."""
        due = sum(lot.remaining for lot in due_lots(self.lots, as_utc(at)))
        return max(0, self.balance - due)

    def expiring_soon(self, now: datetime, rulebook: Rulebook) -> int:
        window = timedelta(days=rulebook.expiring_soon_days)
        return points_expiring_within(self.lots, as_utc(now, "now"), window)

    def lots_expiring_soon(self, now: datetime, rulebook: Rulebook) -> list[Lot]:
        """The lots with points left that expire within the rulebook's window, soonest first;
        lots past their expiry but not yet swept are not among them."""
        window = timedelta(days=rulebook.expiring_soon_days)
        expiring = (
            lot for lot in self.lots if points_expiring_within([lot], as_utc(now, "now"), window)
        )
        return sorted(expiring, key=lambda lot: lot.expires_at)

    def expire_due_lots(self, now: datetime, rulebook: Rulebook) -> list[LedgerEntry]:
        """Expire what remains of every lot due by `now`: one entry per lot, dated its expiry."""
        entries = []
        for lot in due_lots(self.lots, as_utc(now, "now")):
            points, lot.remaining = lot.remaining, 0
            self.balance -= points
            origin = Origin(lot.lot_id, lot.expires_at, rulebook)
            allocation = LotAllocation(lot.lot_id, points)
            entries.append(
                self._entry(
                    EntryKind.EXPIRE, EntryReason.EXPIRY, -points, origin, allocations=(allocation,)
                )
            )
        return entries

    def _earn(
        self, points: int, reason: EntryReason, key: str, origin: Origin, note: str = ""
    ) -> list[LedgerEntry]:
        """Credit what fits under the day's cap as lot `key`; hold the rest as hold `key`."""
        rulebook = origin.rulebook
        day = business_day(origin.at, rulebook.business_timezone)
        earned_today = self.earned_by_day.get(day, 0)
        split = split_by_daily_cap(points, earned_today, rulebook.daily_earn_cap)
        entries = []
        if split.credited:
            self.earned_by_day[day] = earned_today + split.credited
            entries.append(
                self._credit(EntryKind.EARN, reason, split.credited, origin, key, origin.at, note)
            )
        if split.held:
            if key in self.holds:
                raise RefusedByRules(f"hold {key!r} already exists")
            hold = Hold(
                key,
                split.held,
                origin.at,
                reason,
                origin.source_id,
                origin.order_id,
                rulebook.version,
            )
            self.holds[key] = hold
            entries.append(self._hold_entry(split.held, reason, hold, origin, note))
        return entries

    def _credit(
        self,
        kind: EntryKind,
        reason: EntryReason,
        points: int,
        origin: Origin,
        lot_id: str,
        lot_earned_at: datetime,
        note: str = "",
        hold_id: str | None = None,
    ) -> LedgerEntry:
        """Add points: repay the debt first, open a lot with the rest."""
        if any(lot.lot_id == lot_id for lot in self.lots):
            raise RefusedByRules(f"lot {lot_id!r} already exists")
        debt_repaid = min(points, self.debt)
        self.balance += points
        new_lot = None
        if points > debt_repaid:
            lifetime = origin.rulebook.lot_lifetime_years
            lot = Lot.open(lot_id, points - debt_repaid, lot_earned_at, lifetime)
            self.lots.append(lot)
            new_lot = lot.as_new_lot()
        return self._entry(
            kind,
            reason,
            points,
            origin,
            new_lot=new_lot,
            debt_repaid=debt_repaid,
            hold_id=hold_id,
            note=note,
        )

    def _debit(
        self,
        kind: EntryKind,
        reason: EntryReason,
        points: int,
        origin: Origin,
        first_lot_ids: tuple[str, ...] = (),
        note: str = "",
    ) -> LedgerEntry:
        """Take points out of lots, oldest first; whatever the lots lack becomes debt."""
        allocations = take_from_lots(self.lots, points, first_lot_ids)
        self.balance -= points
        return self._entry(kind, reason, -points, origin, allocations=allocations, note=note)

    def _pending_hold(self, hold_id: str) -> Hold:
        hold = self.holds.get(hold_id)
        if hold is None:
            raise UnknownHold(hold_id)
        return hold

    def _reduce_hold(
        self, hold: Hold, points: int, reason: EntryReason, origin: Origin
    ) -> LedgerEntry:
        hold.points -= points
        if hold.points == 0:
            del self.holds[hold.hold_id]
        return self._hold_entry(-points, reason, hold, origin)

    def _hold_entry(
        self, points: int, reason: EntryReason, hold: Hold, origin: Origin, note: str = ""
    ) -> LedgerEntry:
        return self._entry(
            EntryKind.HOLD,
            reason,
            points,
            origin,
            order_id=hold.order_id,
            hold_id=hold.hold_id,
            note=note,
        )

    def _entry(
        self,
        kind: EntryKind,
        reason: EntryReason,
        points: int,
        origin: Origin,
        *,
        order_id: str | None = None,
        hold_id: str | None = None,
        new_lot: NewLot | None = None,
        allocations: tuple[LotAllocation, ...] = (),
        debt_repaid: int = 0,
        note: str = "",
    ) -> LedgerEntry:
        return LedgerEntry(
            customer_id=self.customer_id,
            kind=kind,
            reason=reason,
            points=points,
            source_id=origin.source_id,
            rule_version=origin.rulebook.version,
            business_time=origin.at,
            order_id=order_id or origin.order_id,
            hold_id=hold_id,
            new_lot=new_lot,
            allocations=allocations,
            debt_repaid=debt_repaid,
            note=note,
        )
