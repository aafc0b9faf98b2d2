"""What the account's operations return: the entries to append and the decisions behind them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.loyalty.rules.earning import OrderEarning
from services.loyalty.rules.ledger import EntryKind, LedgerEntry
from services.loyalty.rules.referral import ReferralAward
from services.loyalty.rules.tasks import TaskReward
from services.loyalty.rules.tiers import TierChange


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """`referral_award` is for the caller to credit the referrer's account with."""

    entries: tuple[LedgerEntry, ...]
    earning: OrderEarning | None
    referral_award: ReferralAward | None = None
    tier_change: TierChange | None = None
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    """`points_clawed_back` counts this refund's clawback, hold reductions included.

    `waiting_for_order` means the order is not known yet: the refund is remembered and
    clawed back when the order arrives.
    """

    entries: tuple[LedgerEntry, ...]
    points_clawed_back: int
    waiting_for_order: bool = False
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """`reward` is None when the task was already rewarded for its day (or order)."""

    entries: tuple[LedgerEntry, ...]
    reward: TaskReward | None

    @property
    def credited(self) -> int:
        """Points of the reward credited now (the rest went over the daily cap)."""
        return sum(entry.points for entry in self.entries if entry.kind is EntryKind.EARN)

    @property
    def held(self) -> int:
        """Points of the reward held for review over the daily cap."""
        return sum(entry.points for entry in self.entries if entry.kind is EntryKind.HOLD)


@dataclass(frozen=True, slots=True)
class Redemption:
    """Entries: lots that fell due by the redemption's time first, then the redeem entry."""

    entries: tuple[LedgerEntry, ...]
    points: int
    coupon_value_yuan: Decimal
