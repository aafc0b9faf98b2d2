"""The loyalty domain: pure rules and the points account, with no I/O and no clock.

Handlers load a `PointsAccount`, call one operation with an `Origin` (source id, business
time, rules in force), and persist the returned `LedgerEntry` values with the changed state.
"""

from services.loyalty.domain.account import PointsAccount, order_key
from services.loyalty.domain.book import Origin, PointsBook
from services.loyalty.domain.business_time import add_calendar_years, as_utc, business_day
from services.loyalty.domain.caps import CapSplit, Hold, split_by_daily_cap
from services.loyalty.domain.earning import (
    Multiplier,
    OrderEarning,
    QualifyingMultiplier,
    earn_points_for_order,
)
from services.loyalty.domain.errors import (
    InsufficientPoints,
    InvalidInput,
    InvalidRules,
    LoyaltyError,
    UnknownHold,
)
from services.loyalty.domain.ledger import (
    EntryKind,
    EntryReason,
    LedgerEntry,
    LotAllocation,
    NewLot,
    balance_from_entries,
    held_from_entries,
)
from services.loyalty.domain.lots import Lot
from services.loyalty.domain.orders import OrderRecord, clawback_due
from services.loyalty.domain.outcomes import OrderOutcome, Redemption, RefundOutcome, TaskOutcome
from services.loyalty.domain.referral import ReferralAward, accept_referrer, decide_referral_award
from services.loyalty.domain.rulebook import DEFAULT_RULES, LoyaltyRules, Tier
from services.loyalty.domain.tasks import Task, TaskReward, decide_task_reward
from services.loyalty.domain.tiers import (
    Spend,
    TierChange,
    TierChangeReason,
    TierProgress,
    net_spend_in_window,
    tier_after_spend,
    tier_at_monthly_review,
    tier_for_net_spend,
    tier_progress,
)

__all__ = [
    "DEFAULT_RULES",
    "CapSplit",
    "EntryKind",
    "EntryReason",
    "Hold",
    "InsufficientPoints",
    "InvalidInput",
    "InvalidRules",
    "LedgerEntry",
    "Lot",
    "LotAllocation",
    "LoyaltyError",
    "LoyaltyRules",
    "Multiplier",
    "NewLot",
    "OrderEarning",
    "OrderOutcome",
    "OrderRecord",
    "Origin",
    "PointsAccount",
    "PointsBook",
    "QualifyingMultiplier",
    "Redemption",
    "ReferralAward",
    "RefundOutcome",
    "Spend",
    "Task",
    "TaskOutcome",
    "TaskReward",
    "Tier",
    "TierChange",
    "TierChangeReason",
    "TierProgress",
    "UnknownHold",
    "accept_referrer",
    "add_calendar_years",
    "as_utc",
    "balance_from_entries",
    "business_day",
    "clawback_due",
    "decide_referral_award",
    "decide_task_reward",
    "earn_points_for_order",
    "held_from_entries",
    "net_spend_in_window",
    "order_key",
    "split_by_daily_cap",
    "tier_after_spend",
    "tier_at_monthly_review",
    "tier_for_net_spend",
    "tier_progress",
]
