"""Random sequences of orders, refunds, tasks, redemptions, holds and expiries on one
account, with an advancing clock: the account never disagrees with its own ledger."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.loyalty.rules.account import PointsAccount
from services.loyalty.rules.book import Origin
from services.loyalty.rules.business_time import business_day
from services.loyalty.rules.errors import InsufficientPoints
from services.loyalty.rules.ledger import (
    EntryKind,
    EntryReason,
    LedgerEntry,
    balance_from_entries,
    held_from_entries,
)
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK, Rulebook
from services.loyalty.rules.tasks import Task
from tests.unit.loyalty.factories import utc

START = utc(2023, 1, 1)
TIGHT_RULEBOOK = Rulebook(version=2, daily_earn_cap=300, stack_multipliers=True)

amounts = st.decimals(min_value=0, max_value=6000, places=2)
picks = st.integers(min_value=0, max_value=1000)
# From a minute to over a year, so sequences cross business days, months and years.
clock_steps = st.tuples(
    st.sampled_from([60, 3_600, 86_400, 45 * 86_400, 400 * 86_400]),
    st.integers(min_value=1, max_value=20),
).map(lambda step: timedelta(seconds=step[0] * step[1] // 10))


class AccountMachine(RuleBasedStateMachine):
    """Drives one account and keeps every entry it returned, as the database would."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[LedgerEntry] = []
        self.placed: list[tuple[str, Decimal]] = []
        self.order_points: dict[str, int] = {}
        self.now = START
        self.sequence = 0

    @initialize(
        rulebook=st.sampled_from([DEFAULT_RULEBOOK, TIGHT_RULEBOOK]),
        birthday=st.none() | st.dates(min_value=date(1950, 1, 1), max_value=date(2005, 12, 31)),
    )
    def open_account(self, rulebook: Rulebook, birthday: date | None) -> None:
        self.rulebook = rulebook
        self.account = PointsAccount("c-under-test", birthday=birthday, referrer_id="c-referrer")

    def origin(self) -> Origin:
        self.sequence += 1
        return Origin(f"src-{self.sequence}", self.now, self.rulebook)

    @rule(step=clock_steps)
    def advance_clock(self, step: timedelta) -> None:
        self.now += step

    @precondition(lambda self: any(lot.remaining for lot in self.account.lots))
    @rule(pick=picks, seconds=st.sampled_from([-1, 0, 1]))
    def jump_to_a_lot_expiry(self, pick: int, seconds: int) -> None:
        """Just before, at or just after the instant an open lot expires."""
        open_lots = [lot for lot in self.account.lots if lot.remaining]
        expires_at = open_lots[pick % len(open_lots)].expires_at
        self.now = max(self.now, expires_at + timedelta(seconds=seconds))

    @rule(amount=amounts)
    def place_order(self, amount: Decimal) -> None:
        order_id = f"order-{len(self.placed)}"
        outcome = self.account.place_order(order_id, amount, self.origin())
        assert outcome.earning is not None
        self.placed.append((order_id, amount))
        self.order_points[order_id] = outcome.earning.points
        self.entries += outcome.entries

    @precondition(lambda self: self.placed)
    @rule(pick=picks)
    def deliver_an_order_again(self, pick: int) -> None:
        order_id, amount = self.placed[pick % len(self.placed)]
        outcome = self.account.place_order(order_id, amount, self.origin())
        assert outcome.duplicate
        assert outcome.entries == ()

    @precondition(lambda self: self.placed)
    @rule(pick=picks, amount=amounts)
    def refund_order(self, pick: int, amount: Decimal) -> None:
        order_id, _ = self.placed[pick % len(self.placed)]
        self.entries += self.account.refund_order(order_id, amount, self.origin()).entries

    @rule(task=st.sampled_from(Task), pick=picks)
    def complete_task(self, task: Task, pick: int) -> None:
        order_id = f"order-{pick % 20}" if task is Task.REVIEW else None
        self.entries += self.account.complete_task(task, self.origin(), order_id).entries

    @rule(points=st.integers(1, 80).map(lambda n: n * 100))
    def redeem(self, points: int) -> None:
        available = self.account.available_at(self.now)
        balance_before = self.account.balance
        try:
            redemption = self.account.redeem(points, self.origin())
        except InsufficientPoints as refused:
            assert points > available
            assert (refused.available, refused.requested) == (available, points)
            assert self.account.balance == balance_before
            return
        assert points <= available
        assert self.account.balance >= 0
        assert redemption.entries[-1].points == -points
        self.entries += redemption.entries

    @rule()
    def expire_due_lots(self) -> None:
        self.entries += self.account.expire_due_lots(self.now, self.rulebook)
        assert self.account.available_at(self.now) == max(0, self.account.balance)

    @precondition(lambda self: self.account.holds)
    @rule(pick=picks, release=st.booleans())
    def settle_a_hold(self, pick: int, release: bool) -> None:
        hold_id = sorted(self.account.holds)[pick % len(self.account.holds)]
        settle = self.account.release_hold if release else self.account.cancel_hold
        self.entries += settle(hold_id, self.origin())

    @rule(points=st.integers(-500, 3000).filter(bool))
    def adjust(self, points: int) -> None:
        self.entries += self.account.adjust(points, self.origin())

    @invariant()
    def balance_and_held_are_the_sums_of_the_ledger(self) -> None:
        assert self.account.balance == balance_from_entries(self.entries)
        assert self.account.held == held_from_entries(self.entries)
        assert all(hold.points > 0 for hold in self.account.holds.values())

    @invariant()
    def lots_hold_the_balance_or_there_is_debt(self) -> None:
        account = self.account
        in_lots = sum(lot.remaining for lot in account.lots)
        assert in_lots - account.debt == account.balance
        assert account.debt == 0 or in_lots == 0
        assert all(0 <= lot.remaining <= lot.points for lot in account.lots)

    @invariant()
    def allocations_match_their_entries(self) -> None:
        for entry in self.entries:
            taken = sum(allocation.points for allocation in entry.allocations)
            if entry.kind in (EntryKind.REDEEM, EntryKind.EXPIRE):
                assert taken == -entry.points
            else:
                assert taken <= abs(entry.points)
            if entry.new_lot is not None:
                assert entry.new_lot.points == entry.points - entry.debt_repaid

    @invariant()
    def no_order_loses_more_than_it_earned(self) -> None:
        taken_back: dict[str, int] = defaultdict(int)
        for entry in self.entries:
            if entry.reason is EntryReason.REFUND and entry.order_id is not None:
                taken_back[entry.order_id] -= entry.points
        for order_id, points in taken_back.items():
            assert 0 <= points <= self.order_points[order_id]
        for order_id, record in self.account.orders.items():
            assert 0 <= record.points_clawed_back <= record.points_awarded
            assert taken_back.get(order_id, 0) == record.points_clawed_back

    @invariant()
    def credited_earns_stay_under_the_daily_cap(self) -> None:
        credited: dict[date, int] = defaultdict(int)
        for entry in self.entries:
            if entry.kind is EntryKind.EARN:
                day = business_day(entry.business_time, self.rulebook.business_timezone)
                credited[day] += entry.points
        assert all(points <= self.rulebook.daily_earn_cap for points in credited.values())


AccountMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestAccountAgreesWithItsLedger = AccountMachine.TestCase
