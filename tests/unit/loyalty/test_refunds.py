from decimal import Decimal

import pytest

from services.loyalty.rules.account import order_key
from services.loyalty.rules.ledger import EntryKind, EntryReason
from services.loyalty.rules.orders import clawback_due
from services.loyalty.rules.tasks import Task
from tests.support.builders import new_id
from tests.unit.loyalty.factories import new_account, origin_at, utc

PLACED_AT = utc(2024, 5, 1, 2)
LATER = utc(2024, 5, 20, 2)


def test_a_full_refund_takes_back_every_point_the_order_gave():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("500"), origin_at(PLACED_AT))  # first order: 1000

    outcome = account.refund_order(order_id, Decimal("500"), origin_at(LATER))

    (clawback,) = outcome.entries
    assert (clawback.kind, clawback.reason, clawback.points) == (
        EntryKind.CLAWBACK,
        EntryReason.REFUND,
        -1000,
    )
    assert clawback.order_id == order_id
    assert outcome.points_clawed_back == 1000
    assert account.balance == 0


def test_partial_refunds_claw_back_in_proportion_and_add_up_to_the_order_points():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("1000"), origin_at(PLACED_AT))  # 2000 points

    clawed = [
        account.refund_order(order_id, Decimal(amount), origin_at(LATER)).points_clawed_back
        for amount in ("333.33", "333.33", "333.34")
    ]

    # floor(2000 x cumulative share) - clawed so far: 666, 1333 - 666, 2000 - 1333
    assert clawed == [666, 667, 667]
    assert sum(clawed) == 2000
    assert account.orders[order_id].points_clawed_back == 2000
    assert account.balance == 0


def test_refunds_beyond_the_order_amount_never_take_more_than_the_order_gave():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("100"), origin_at(PLACED_AT))  # 200 points
    account.complete_task(Task.SHARE, origin_at(PLACED_AT))

    account.refund_order(order_id, Decimal("80"), origin_at(LATER))
    account.refund_order(order_id, Decimal("80"), origin_at(LATER))
    extra = account.refund_order(order_id, Decimal("80"), origin_at(LATER))

    assert extra.points_clawed_back == 0
    assert account.orders[order_id].points_clawed_back == 200
    assert account.balance == 100


@pytest.mark.parametrize(
    ("points", "amount", "refunded", "already", "due"),
    [
        (416, Decimal("333"), Decimal("100"), 0, 124),
        (416, Decimal("333"), Decimal("333"), 124, 292),
        (416, Decimal("333"), Decimal("999"), 416, 0),
        (0, Decimal("0.50"), Decimal("0.50"), 0, 0),
        (10, Decimal("0"), Decimal("5"), 0, 0),
    ],
)
def test_clawback_due(points, amount, refunded, already, due):
    assert clawback_due(points, amount, refunded, already) == due


def test_the_same_refund_delivered_twice_counts_once():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("500"), origin_at(PLACED_AT))
    refund = origin_at(LATER)

    account.refund_order(order_id, Decimal("100"), refund)
    again = account.refund_order(order_id, Decimal("100"), refund)

    assert again.duplicate
    assert again.entries == ()
    assert account.orders[order_id].refunded_amount == Decimal("100")


def test_a_refund_takes_from_the_orders_own_lot_first():
    account = new_account()
    account.complete_task(Task.SHARE, origin_at(utc(2024, 4, 1)))
    order_id = new_id("order")
    account.place_order(order_id, Decimal("100"), origin_at(PLACED_AT))

    (clawback,) = account.refund_order(order_id, Decimal("50"), origin_at(LATER)).entries

    assert [(a.lot_id, a.points) for a in clawback.allocations] == [(order_key(order_id), 100)]


def test_the_balance_may_go_negative_and_later_earns_repay_it_first():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("300"), origin_at(PLACED_AT))  # 600 points
    account.redeem(600, origin_at(PLACED_AT))
    account.refund_order(order_id, Decimal("300"), origin_at(LATER))
    assert account.balance == -600
    assert account.debt == 600

    repaying = account.place_order(new_id("order"), Decimal("400"), origin_at(LATER))
    overflowing = account.place_order(new_id("order"), Decimal("500"), origin_at(LATER))

    (partial,) = repaying.entries
    assert (partial.points, partial.debt_repaid, partial.new_lot) == (400, 400, None)
    (rest,) = overflowing.entries
    assert (rest.points, rest.debt_repaid) == (500, 200)
    assert rest.new_lot is not None
    assert rest.new_lot.points == 300
    assert account.balance == 300
    assert sum(lot.remaining for lot in account.lots) == 300


def test_a_refund_cancels_the_orders_held_points_before_touching_the_balance():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("3000"), origin_at(PLACED_AT))  # 5000 + 1000 held

    half = account.refund_order(order_id, Decimal("1000"), origin_at(LATER))  # 2000 due
    rest = account.refund_order(order_id, Decimal("2000"), origin_at(LATER))  # 4000 due

    assert [(e.kind, e.points) for e in half.entries] == [
        (EntryKind.HOLD, -1000),
        (EntryKind.CLAWBACK, -1000),
    ]
    assert [(e.kind, e.points) for e in rest.entries] == [(EntryKind.CLAWBACK, -4000)]
    assert account.held == 0
    assert account.balance == 0


def test_a_refund_arriving_before_its_order_is_applied_when_the_order_lands():
    account = new_account()
    order_id = new_id("order")

    early = account.refund_order(order_id, Decimal("50"), origin_at(LATER))
    placed = account.place_order(order_id, Decimal("100"), origin_at(PLACED_AT))

    assert early.waiting_for_order
    assert early.entries == ()
    assert [(e.kind, e.points) for e in placed.entries] == [
        (EntryKind.EARN, 200),
        (EntryKind.CLAWBACK, -100),
    ]
    assert placed.entries[1].business_time == LATER
    assert account.balance == 100


def test_the_same_order_delivered_twice_earns_once():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("100"), origin_at(PLACED_AT))

    again = account.place_order(order_id, Decimal("100"), origin_at(PLACED_AT))

    assert again.duplicate
    assert again.entries == ()
    assert account.balance == 200
