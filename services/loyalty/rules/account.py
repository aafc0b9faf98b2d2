"""A customer's loyalty account: the aggregate handlers and commands load, change and save.

Each operation takes the business time it happens at and the rulebook in force, changes the
account in memory and returns the ledger entries it decided; the database appends them in
the same transaction as the changed lots, holds, orders and claimed keys. An operation at
`at` first expires the lots due by then, so it acts on the account as it stands at `at`.
An operation that raises has changed nothing.

Invariants, over every entry the account ever returned:
- balance == balance_from_entries(entries); held == held_from_entries(entries) == the sum
  of pending holds
- balance == sum of lots' remaining - debt, debt == max(0, -balance); with debt, lots are empty
- credited earns per business day never exceed the daily cap
- per order, 0 <= points_clawed_back <= points_awarded
- a redemption never takes more than `available_at(at)`, so it never leaves a negative balance
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from services.loyalty.rules.book import Origin, PointsBook, released_lot_id
from services.loyalty.rules.earning import earn_points_for_order, require_amount
from services.loyalty.rules.errors import InsufficientPoints, RefusedByRules
from services.loyalty.rules.ledger import EntryKind, EntryReason, LedgerEntry
from services.loyalty.rules.orders import OrderRecord, clawback_due
from services.loyalty.rules.outcomes import OrderOutcome, Redemption, RefundOutcome, TaskOutcome
from services.loyalty.rules.referral import (
    REFEREE_REWARD_KEY,
    ReferralAward,
    accept_referrer,
    decide_referral_award,
    referrer_reward_key,
)
from services.loyalty.rules.rulebook import Rulebook, Tier
from services.loyalty.rules.tasks import Task, decide_task_reward
from services.loyalty.rules.tiers import (
    TierChange,
    TierProgress,
    business_month_start,
    net_spend_by_month,
    tier_after_spend,
    tier_at_monthly_review,
    tier_progress,
)


def order_key(order_id: str) -> str:
    """Id of the lot and of the hold an order's points go to."""
    return f"order:{order_id}"


@dataclass(slots=True)
class PointsAccount(PointsBook):
    """What a handler or command loads: the book (open lots, pending holds, the credited earns
    of the business days it acts on), the tier, birthday and referrer, `orders_placed`, the
    orders its operations name, `spend_by_month`, the net spend of the business months its
    operations look at (at least their tier windows), and `claimed_keys`, the once-only rewards
    already given (a task on a day, a review of an order, a referral) among those it asks about.

    Operations only ever add to `spend_by_month`, so a month that was not loaded holds the
    change to the month as stored."""

    tier: Tier = Tier.BRONZE
    birthday: date | None = None
    referrer_id: str | None = None
    orders_placed: int = 0
    orders: dict[str, OrderRecord] = field(default_factory=dict)
    claimed_keys: set[str] = field(default_factory=set)
    spend_by_month: dict[date, Decimal] = field(default_factory=dict)

    def net_spend(self, now: datetime, rulebook: Rulebook) -> Decimal:
        return net_spend_by_month(self.spend_by_month, now, rulebook)

    def _count_spend(self, record: OrderRecord, change: Decimal, rulebook: Rulebook) -> None:
        """Add `change` to the net spend of the business month the order was placed in."""
        if record.placed_at is None or not change:
            return
        month = business_month_start(record.placed_at, rulebook)
        self.spend_by_month[month] = self.spend_by_month.get(month, Decimal(0)) + change

    def tier_progress(self, now: datetime, rulebook: Rulebook) -> TierProgress:
        return tier_progress(self.net_spend(now, rulebook), rulebook)

    def remember_referrer(self, referrer_id: str | None) -> None:
        """Keep the referrer from registration; a self-referral or a second one is ignored."""
        if self.referrer_id is None:
            self.referrer_id = accept_referrer(self.customer_id, referrer_id)

    def review_tier(self, now: datetime, rulebook: Rulebook) -> TierChange | None:
        """The monthly review: up to the tier earned, or at most one tier down."""
        change = tier_at_monthly_review(self.tier, self.net_spend(now, rulebook), now, rulebook)
        if change is not None:
            self.tier = change.new_tier
        return change

    def place_order(self, order_id: str, amount: Decimal, origin: Origin) -> OrderOutcome:
        """Earn on an order; the first order also gives the referee's referral bonus."""
        require_amount(amount, "amount")
        origin = origin.for_order(order_id)
        rulebook, now = origin.rulebook, origin.at
        record = self.orders.get(order_id)
        if record is not None and record.is_placed:
            return OrderOutcome(entries=(), earning=None, duplicate=True)
        entries = self.expire_due_lots(now, rulebook)
        is_first_order = self.orders_placed == 0
        self.orders_placed += 1
        earning = earn_points_for_order(
            amount=amount,
            placed_at=now,
            is_first_order=is_first_order,
            birthday=self.birthday,
            tier=self.tier,
            rulebook=rulebook,
        )
        record = self.orders.setdefault(order_id, OrderRecord(order_id))
        record.amount, record.placed_at, record.points_awarded = amount, now, earning.points
        self._count_spend(record, record.net_amount, rulebook)
        note = earning.explanation()
        entries += self._earn(earning.points, EntryReason.ORDER, order_key(order_id), origin, note)
        if record.refunded_amount > 0:
            # The refund arrived first; take it back as of the later of the two times.
            refunded_at = max(now, record.last_refund_at or now)
            entries += self._claw_back(record, origin.at_time(refunded_at))
        award = decide_referral_award(
            referee_id=self.customer_id,
            referrer_id=self.referrer_id,
            is_first_order=is_first_order,
            already_rewarded=REFEREE_REWARD_KEY in self.claimed_keys,
            rulebook=rulebook,
        )
        if award is not None:
            self.claimed_keys.add(REFEREE_REWARD_KEY)
            key = f"{EntryReason.REFEREE_BONUS}:{self.customer_id}"
            entries += self._earn(award.referee_points, EntryReason.REFEREE_BONUS, key, origin)
        tier_change = tier_after_spend(self.tier, self.net_spend(now, rulebook), now, rulebook)
        if tier_change is not None:
            self.tier = tier_change.new_tier
        return OrderOutcome(tuple(entries), earning, award, tier_change)

    def refund_order(
        self, order_id: str, refunded_amount: Decimal, origin: Origin
    ) -> RefundOutcome:
        """Claw back the refunded share of the order's points; remembered if the order is late."""
        require_amount(refunded_amount, "refunded_amount")
        origin = origin.for_order(order_id)
        record = self.orders.setdefault(order_id, OrderRecord(order_id))
        if origin.source_id in record.refund_source_ids:
            return RefundOutcome(entries=(), points_clawed_back=0, duplicate=True)
        record.refund_source_ids.add(origin.source_id)
        net_before = record.net_amount
        record.refunded_amount += refunded_amount
        self._count_spend(record, record.net_amount - net_before, origin.rulebook)
        record.last_refund_at = max(origin.at, record.last_refund_at or origin.at)
        if not record.is_placed:
            return RefundOutcome(entries=(), points_clawed_back=0, waiting_for_order=True)
        entries = self.expire_due_lots(origin.at, origin.rulebook)
        clawed_before = record.points_clawed_back
        entries += self._claw_back(record, origin)
        return RefundOutcome(tuple(entries), record.points_clawed_back - clawed_before)

    def complete_task(self, task: Task, origin: Origin, order_id: str | None = None) -> TaskOutcome:
        """Reward a task once per business day (a review once per order too)."""
        origin = origin.for_order(order_id)
        reward = decide_task_reward(task, origin.at, origin.rulebook, self.claimed_keys, order_id)
        if reward is None:
            return TaskOutcome(entries=(), reward=None)
        entries = self.expire_due_lots(origin.at, origin.rulebook)
        self.claimed_keys.update(reward.claimed_keys)
        key = reward.claimed_keys[0]
        entries += self._earn(reward.points, task.entry_reason, key, origin)
        return TaskOutcome(tuple(entries), reward)

    def credit_referrer_bonus(
        self, award: ReferralAward, origin: Origin
    ) -> tuple[LedgerEntry, ...]:
        """The referrer's side of an award, once per referee."""
        if award.referrer_id != self.customer_id:
            raise RefusedByRules("the award names another referrer")
        claimed_key = referrer_reward_key(award.referee_id)
        if claimed_key in self.claimed_keys:
            return ()
        entries = self.expire_due_lots(origin.at, origin.rulebook)
        self.claimed_keys.add(claimed_key)
        key = f"{EntryReason.REFERRER_BONUS}:{award.referee_id}"
        entries += self._earn(award.referrer_points, EntryReason.REFERRER_BONUS, key, origin)
        return tuple(entries)

    def redeem(self, points: int, origin: Origin) -> Redemption:
        """Spend `points`, a positive multiple of points_per_coupon_yuan, on a coupon."""
        step = origin.rulebook.points_per_coupon_yuan
        if isinstance(points, bool) or points <= 0 or points % step:
            raise RefusedByRules(f"points must be a positive multiple of {step}, got {points}")
        available = self.available_at(origin.at)
        if points > available:
            raise InsufficientPoints(available=available, requested=points)
        entries = self.expire_due_lots(origin.at, origin.rulebook)
        entries.append(self._debit(EntryKind.REDEEM, EntryReason.REDEMPTION, points, origin))
        return Redemption(tuple(entries), points, Decimal(points) / Decimal(step))

    def release_hold(self, hold_id: str, origin: Origin) -> tuple[LedgerEntry, ...]:
        """Credit a pending hold in full, past the cap: an admin has reviewed it."""
        hold = self._pending_hold(hold_id)
        origin = origin.for_order(hold.order_id)
        entries = self.expire_due_lots(origin.at, origin.rulebook)
        del self.holds[hold_id]
        entries.append(
            self._credit(
                EntryKind.RELEASE,
                EntryReason.HOLD_RELEASED,
                hold.points,
                origin,
                lot_id=released_lot_id(hold_id),
                lot_earned_at=hold.held_at,
                hold_id=hold_id,
            )
        )
        return tuple(entries)

    def cancel_hold(self, hold_id: str, origin: Origin) -> tuple[LedgerEntry, ...]:
        """Drop a pending hold; an order's points are then what it was credited."""
        hold = self._pending_hold(hold_id)
        entries = self.expire_due_lots(origin.at, origin.rulebook)
        order = self.orders.get(hold.order_id or "")
        if order is not None and hold.reason == EntryReason.ORDER:
            order.points_awarded -= hold.points
        entries.append(self._reduce_hold(hold, hold.points, EntryReason.HOLD_CANCELLED, origin))
        return tuple(entries)

    def adjust(self, points: int, origin: Origin, note: str = "") -> tuple[LedgerEntry, ...]:
        """An admin correction: + opens a lot (no cap), - is taken like a clawback."""
        if isinstance(points, bool) or points == 0:
            raise RefusedByRules("an adjustment needs a non-zero number of points")
        lot_id = f"{EntryReason.ADMIN}:{origin.source_id}"
        if any(lot.lot_id == lot_id for lot in self.lots):
            raise RefusedByRules(f"adjustment {origin.source_id!r} was already applied")
        entries = self.expire_due_lots(origin.at, origin.rulebook)
        if points > 0:
            entry = self._credit(
                EntryKind.ADJUST, EntryReason.ADMIN, points, origin, lot_id, origin.at, note
            )
        else:
            entry = self._debit(EntryKind.ADJUST, EntryReason.ADMIN, -points, origin, note=note)
        entries.append(entry)
        return tuple(entries)

    def _claw_back(self, record: OrderRecord, origin: Origin) -> list[LedgerEntry]:
        """Take back the refunded share: the order's pending hold first, then the balance,
        from the order's own lots first."""
        if record.amount is None:
            return []
        due = clawback_due(
            record.points_awarded,
            record.amount,
            record.refunded_amount,
            record.points_clawed_back,
        )
        record.points_clawed_back += due
        entries = []
        key = order_key(record.order_id)
        hold = self.holds.get(key)
        from_hold = min(due, hold.points) if hold is not None else 0
        if hold is not None and from_hold:
            entries.append(self._reduce_hold(hold, from_hold, EntryReason.REFUND, origin))
        if due > from_hold:
            clawback = self._debit(
                EntryKind.CLAWBACK,
                EntryReason.REFUND,
                due - from_hold,
                origin,
                first_lot_ids=(key, released_lot_id(key)),
            )
            entries.append(clawback)
        return entries
