"""A long random history through the handlers and the database, mirrored on a pure
`PointsAccount`: after every step the stored account is the one the domain computes, and
the stored totals are the sums over the stored ledger.

This is what proves the persistence faithful: lots, holds, orders out of the tier window,
refund ids, claimed keys, the day's earns and the monthly review all survive the round trip.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from services.loyalty.domain import DEFAULT_RULES, InsufficientPoints, Origin, PointsAccount, Task
from services.loyalty.handlers.holds import settle_hold
from services.loyalty.handlers.queries import verify_ledger
from services.loyalty.handlers.redemptions import redeem_points
from services.loyalty.handlers.task_claims import claim_task
from services.loyalty.store import load_account, month_start
from services.loyalty.tasks import expire_due_points, review_tiers
from shared.errors import Conflict
from tests.unit.loyalty.test_handlers import (
    T0,
    Sessions,
    handle,
    new_id,
    order,
    refund,
    sessions,  # noqa: F401  (the fixture)
)
from tests.unit.loyalty.test_handlers import event as make_event

RULES = DEFAULT_RULES
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
    """The same history applied to the pure domain."""

    def __init__(self, customer_id: str) -> None:
        self.account = PointsAccount(customer_id)
        self.reviewed_month: date | None = None
        self.orders: list[tuple[str, Decimal]] = []

    def origin(self, at: datetime, source_id: str | None = None) -> Origin:
        return Origin(source_id or new_id("src"), at, RULES)


async def _step(db: Sessions, rng: random.Random, mirror: Mirror, now: datetime) -> None:
    account, customer_id = mirror.account, mirror.account.customer_id
    choice = rng.random()
    if choice < 0.3 or not mirror.orders:
        order_id = new_id("o")
        amount = Decimal(rng.choice(["0.99", "45.50", "480.00", "1000.00", "2700.00", "9000.00"]))
        placed = order(customer_id, order_id, str(amount), now)
        await handle(db, placed, now=now)
        if mirror.reviewed_month is None:
            mirror.reviewed_month = month_start(now, RULES)
        account.place_order(order_id, amount, mirror.origin(now, placed.envelope.id))
        mirror.orders.append((order_id, amount))
    elif choice < 0.45:
        order_id, amount = rng.choice(mirror.orders)
        part = (amount * Decimal(rng.choice(["0.1", "0.25", "0.5", "1"]))).quantize(Decimal("0.01"))
        refunded = refund(customer_id, order_id, str(part), now)
        await handle(db, refunded, now=now)
        account.refund_order(order_id, part, mirror.origin(now, refunded.envelope.id))
    elif choice < 0.52:
        order_id, _ = rng.choice(mirror.orders)
        data = {"customer_id": customer_id, "order_id": order_id, "rating": 4}
        await handle(db, make_event("review.posted", data, now), now=now)
        account.complete_task(Task.REVIEW, mirror.origin(now), order_id)
    elif choice < 0.64:
        task = rng.choice([Task.CHECK_IN, Task.SHARE])
        expected = account.complete_task(task, mirror.origin(now)).reward
        async with db() as session, session.begin():
            try:
                await claim_task(session, customer_id, task, now=now)
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
        async with db() as session, session.begin():
            answer = await redeem_points(session, customer_id, points, new_id("k"), now=now)
        assert answer.status_code == expected_status
    elif choice < 0.85 and account.holds:
        hold_key = rng.choice(sorted(account.holds))
        release = rng.random() < 0.5
        async with db() as session, session.begin():
            loaded = await load_account(session, customer_id, at=now, rules=RULES, lock=False)
            assert loaded is not None
            hold_id = loaded.rows.holds[hold_key].id
            await settle_hold(session, hold_id, release=release, now=now, admin="test")
        settle = account.release_hold if release else account.cancel_hold
        settle(hold_key, mirror.origin(now))
    elif choice < 0.93:
        async with db() as session, session.begin():
            await expire_due_points(session, now)
        account.expire_due_lots(now, RULES)
    else:
        async with db() as session, session.begin():
            await review_tiers(session, now)
        month = month_start(now, RULES)
        if mirror.reviewed_month is not None and mirror.reviewed_month < month:
            account.review_tier(now, RULES)
            mirror.reviewed_month = month


async def _assert_stored_as_mirrored(db: Sessions, mirror: Mirror, now: datetime) -> None:
    expected = mirror.account
    async with db() as session, session.begin():
        loaded = await load_account(session, expected.customer_id, at=now, rules=RULES, lock=False)
        check = await verify_ledger(session, expected.customer_id)
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
async def test_a_random_history_is_stored_exactly_as_the_domain_computes_it(sessions, seed):  # noqa: F811
    rng = random.Random(seed)
    mirror = Mirror(new_id("c"))
    now = T0
    for _ in range(120):
        now += rng.choices(STEPS, STEP_WEIGHTS)[0]
        await _step(sessions, rng, mirror, now)
        await _assert_stored_as_mirrored(sessions, mirror, now)
