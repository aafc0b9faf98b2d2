"""A long random history through the handlers, commands and tasks and the database, mirrored
on a pure `PointsAccount`: after every step the stored account is the one the rules compute,
and the stored totals are the sums over the stored ledger.

This is what proves the persistence faithful: lots, holds, orders out of the tier window,
refund ids, claimed keys, the day's earns and the monthly review all survive the round trip.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from services.loyalty.commands.holds import settle_hold
from services.loyalty.commands.redemptions import redeem_points
from services.loyalty.commands.task_claims import claim_task
from services.loyalty.queries import verify_ledger
from services.loyalty.repository.accounts import Wanted, load_accounts
from services.loyalty.rules.account import PointsAccount
from services.loyalty.rules.book import Origin
from services.loyalty.rules.errors import InsufficientPoints
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK
from services.loyalty.rules.tasks import Task
from services.loyalty.rules.tiers import business_month_start
from shared.clock import FixedClock
from shared.errors import Conflict
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness
from tests.unit.loyalty.test_handlers import T0, order, refund

RULES = DEFAULT_RULEBOOK
# Minutes to over a year: business days, caps, months, tier windows and lot expiry all turn.
STEPS = [
    timedelta(minutes=7),
    timedelta(hours=5),
    timedelta(days=2),
    timedelta(days=40),
    timedelta(days=400),
]
STEP_WEIGHTS = [4, 4, 3, 2, 1]


class Mirror:
    """The same history applied to the pure rules."""

    def __init__(self, customer_id: str) -> None:
        self.account = PointsAccount(customer_id)
        self.reviewed_month: date | None = None
        self.orders: list[tuple[str, Decimal]] = []

    def origin(self, at: datetime, source_id: str | None = None) -> Origin:
        return Origin(source_id or new_id("src"), at, RULES)


async def _step(svc: ServiceHarness, rng: random.Random, mirror: Mirror, now: datetime) -> None:
    account, customer_id = mirror.account, mirror.account.customer_id
    choice = rng.random()
    if choice < 0.3 or not mirror.orders:
        order_id = new_id("o")
        amount = Decimal(rng.choice(["0.99", "45.50", "480.00", "1000.00", "2700.00", "9000.00"]))
        placed = order(customer_id, order_id, str(amount), now)
        await svc.deliver(placed)
        if mirror.reviewed_month is None:
            mirror.reviewed_month = business_month_start(now, RULES)
        account.place_order(order_id, amount, mirror.origin(now, placed["id"]))
        mirror.orders.append((order_id, amount))
    elif choice < 0.45:
        order_id, amount = rng.choice(mirror.orders)
        part = (amount * Decimal(rng.choice(["0.1", "0.25", "0.5", "1"]))).quantize(Decimal("0.01"))
        refunded = refund(customer_id, order_id, str(part), now)
        await svc.deliver(refunded)
        account.refund_order(order_id, part, mirror.origin(now, refunded["id"]))
    elif choice < 0.52:
        order_id, _ = rng.choice(mirror.orders)
        await svc.deliver(builders.review_posted(customer_id, order_id=order_id, rating=4, at=now))
        account.complete_task(Task.REVIEW, mirror.origin(now), order_id)
    elif choice < 0.64:
        task = rng.choice([Task.CHECK_IN, Task.SHARE])
        expected = account.complete_task(task, mirror.origin(now)).reward
        async with svc.transaction() as tx:
            try:
                await claim_task(tx, customer_id, task)
                claimed = True
            except Conflict:
                claimed = False
        assert claimed == (expected is not None)
    elif choice < 0.77:
        points = rng.choice([100, 500, 2000])
        try:
            account.redeem(points, mirror.origin(now))
            expected_status = 201
        except InsufficientPoints:
            expected_status = 409
        async with svc.transaction() as tx:
            answer = await redeem_points(tx, customer_id, points, new_id("k"))
        assert answer.status_code == expected_status
    elif choice < 0.85 and account.holds:
        hold_key = rng.choice(sorted(account.holds))
        release = rng.random() < 0.5
        async with svc.transaction() as tx:
            accounts = await load_accounts(tx, RULES, {customer_id: Wanted()}, lock=False)
            loaded = accounts.stored(customer_id)
            assert loaded is not None
            hold_id = loaded.hold_rows[hold_key]["id"]
            await settle_hold(tx, hold_id, release=release, admin="test")
        settle = account.release_hold if release else account.cancel_hold
        settle(hold_key, mirror.origin(now))
    elif choice < 0.93:
        await svc.run_task("expire-points")
        account.expire_due_lots(now, RULES)
    else:
        await svc.run_task("tier-review")
        month = business_month_start(now, RULES)
        if mirror.reviewed_month is not None and mirror.reviewed_month < month:
            account.review_tier(now, RULES)
            mirror.reviewed_month = month


async def _assert_stored_as_mirrored(svc: ServiceHarness, mirror: Mirror, now: datetime) -> None:
    expected = mirror.account
    async with svc.transaction() as tx:
        wanted = {expected.customer_id: Wanted(times=[now])}
        loaded = (await load_accounts(tx, RULES, wanted, lock=False)).stored(expected.customer_id)
        check = await verify_ledger(tx.session, expected.customer_id)
    assert loaded is not None
    stored = loaded.account
    assert (stored.balance, stored.held, stored.tier) == (
        expected.balance,
        expected.held,
        expected.tier,
    )
    assert stored.orders_placed == expected.orders_placed

    def open_lots(account: PointsAccount) -> list[tuple[str, int, datetime]]:
        return sorted(
            (lot.lot_id, lot.remaining, lot.expires_at) for lot in account.lots if lot.remaining
        )

    assert open_lots(stored) == open_lots(expected)
    assert {k: h.points for k, h in stored.holds.items()} == {
        k: h.points for k, h in expected.holds.items()
    }
    assert check.consistent, check


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_random_history_is_stored_exactly_as_the_rules_compute_it(tmp_path, seed):
    rng = random.Random(seed)
    mirror = Mirror(new_id("c"))
    clock = FixedClock(T0)
    async with service_harness("loyalty", tmp_path, clock=clock) as svc:
        for _ in range(120):
            clock.advance(rng.choices(STEPS, STEP_WEIGHTS)[0])
            now = clock.now()
            await _step(svc, rng, mirror, now)
            await _assert_stored_as_mirrored(svc, mirror, now)
