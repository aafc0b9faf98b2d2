"""Ledger entries: the immutable record of every points decision.

Each entry is one fact the database appends as is. `points` is signed:

| kind     | points | effect                                                           |
|----------|--------|------------------------------------------------------------------|
| earn     | > 0    | balance up; repays any debt first, the rest becomes a new lot    |
| redeem   | < 0    | balance down; taken from lots oldest first                       |
| expire   | < 0    | balance down; what remained of one due lot                       |
| clawback | < 0    | balance down; the order's own lot first, then oldest first, then |
|          |        | into debt (the balance may go negative)                          |
| hold     | ±      | held only: + when an earn goes over the daily cap, - when a hold |
|          |        | is cancelled or reduced by a refund; the balance is untouched    |
| release  | > 0    | held down and balance up by the same points (then as an earn)    |
| adjust   | ±      | balance up (like an earn) or down (like a clawback) by an admin  |

Invariants, checkable against the stored ledger at any time:
- balance = sum of `points` over every entry whose kind is not `hold`
- held    = sum of `points` over `hold` entries - sum of `points` over `release` entries
- balance = sum of open lots' remaining - debt, where debt = max(0, -balance); while there
  is debt every lot is empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.loyalty.rules.rulebook import Tier


class EntryKind(StrEnum):
    EARN = "earn"
    REDEEM = "redeem"
    EXPIRE = "expire"
    CLAWBACK = "clawback"
    HOLD = "hold"
    RELEASE = "release"
    ADJUST = "adjust"


class EntryReason(StrEnum):
    """Why an entry was made, finer than its kind (an earn for an order, for a check-in, ...)."""

    ORDER = "order"
    CHECK_IN = "check_in"
    SHARE = "share"
    REVIEW = "review"
    REFERRER_BONUS = "referrer_bonus"
    REFEREE_BONUS = "referee_bonus"
    REFUND = "refund"
    REDEMPTION = "redemption"
    EXPIRY = "expiry"
    HOLD_RELEASED = "hold_released"
    HOLD_CANCELLED = "hold_cancelled"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class LotAllocation:
    """Points an entry took out of one lot (always positive)."""

    lot_id: str
    points: int


@dataclass(frozen=True, slots=True)
class NewLot:
    """The lot an entry created; earned_at is the business time of the earn."""

    lot_id: str
    points: int
    earned_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    customer_id: str
    kind: EntryKind
    reason: EntryReason
    points: int
    source_id: str
    rule_version: int
    business_time: datetime
    order_id: str | None = None
    hold_id: str | None = None
    new_lot: NewLot | None = None
    allocations: tuple[LotAllocation, ...] = ()
    debt_repaid: int = 0
    note: str = ""


BALANCE_KINDS = frozenset(EntryKind) - {EntryKind.HOLD}


def balance_from_entries(entries: Iterable[LedgerEntry]) -> int:
    return sum(entry.points for entry in entries if entry.kind in BALANCE_KINDS)


def held_from_entries(entries: Iterable[LedgerEntry]) -> int:
    held = 0
    for entry in entries:
        if entry.kind == EntryKind.HOLD:
            held += entry.points
        elif entry.kind == EntryKind.RELEASE:
            held -= entry.points
    return held


@dataclass(frozen=True, slots=True)
class Totals:
    """The balance and the held points of an account at one point of its ledger."""

    balance: int
    held: int


def totals_after_each(entries: Sequence[LedgerEntry], before: Totals) -> list[Totals]:
    """The totals right after each entry, starting from `before` (the ledger stores them)."""
    balance, held = before.balance, before.held
    after = []
    for entry in entries:
        if entry.kind is EntryKind.HOLD:
            held += entry.points
        else:
            balance += entry.points
        if entry.kind is EntryKind.RELEASE:
            held -= entry.points
        after.append(Totals(balance, held))
    return after


@dataclass(frozen=True, slots=True)
class LedgerCheck:
    """An account's stored totals next to the sums over its ledger, lots and pending holds."""

    customer_id: str
    balance: int
    balance_from_ledger: int
    held: int
    held_from_ledger: int
    pending_holds: int
    debt: int
    lots_remaining: int
    tier: Tier

    @property
    def consistent(self) -> bool:
        """The invariants above: the stored totals are what the ledger adds up to."""
        return (
            self.balance == self.balance_from_ledger
            and self.held == self.held_from_ledger == self.pending_holds
            and self.balance == self.lots_remaining - self.debt
            and (self.debt == 0 or self.lots_remaining == 0)
        )
