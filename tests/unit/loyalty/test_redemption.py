from datetime import timedelta
from decimal import Decimal

import pytest

from services.loyalty.rules.errors import InsufficientPoints, RefusedByRules
from services.loyalty.rules.ledger import EntryKind
from services.loyalty.rules.tasks import Task
from tests.support.builders import new_id
from tests.unit.loyalty.factories import new_account, origin_at, utc

T0 = utc(2024, 1, 10, 2)


def account_with_three_lots():
    """Lots of 300 (Jan), 100 (Feb) and 250 (Mar), earned oldest first."""
    account = new_account()
    account.place_order(new_id("order"), Decimal("150"), origin_at(T0))  # first order: 300
    account.complete_task(Task.SHARE, origin_at(utc(2024, 2, 10)))
    account.place_order(new_id("order"), Decimal("250"), origin_at(utc(2024, 3, 10)))
    return account


def test_redemption_takes_the_oldest_lots_first_across_lots():
    account = account_with_three_lots()
    oldest, middle, newest = (lot.lot_id for lot in account.lots)

    redemption = account.redeem(500, origin_at(utc(2024, 4, 1)))

    (entry,) = redemption.entries
    assert (entry.kind, entry.points) == (EntryKind.REDEEM, -500)
    assert [(a.lot_id, a.points) for a in entry.allocations] == [
        (oldest, 300),
        (middle, 100),
        (newest, 100),
    ]
    assert [lot.remaining for lot in account.lots] == [0, 0, 150]
    assert account.balance == 150


def test_a_late_earn_with_an_older_business_time_is_spent_first():
    account = account_with_three_lots()
    late_task = account.complete_task(Task.CHECK_IN, origin_at(utc(2024, 1, 1)))
    late_lot = late_task.entries[0].new_lot
    assert late_lot is not None

    redemption = account.redeem(100, origin_at(utc(2024, 4, 1)))

    assert redemption.entries[0].allocations[0].lot_id == late_lot.lot_id


def test_100_points_make_one_yuan_of_coupon():
    account = account_with_three_lots()

    assert account.redeem(300, origin_at(utc(2024, 4, 1))).coupon_value_yuan == Decimal(3)


@pytest.mark.parametrize("points", [0, -100, 150])
def test_redemptions_are_positive_multiples_of_100(points):
    account = account_with_three_lots()

    with pytest.raises(RefusedByRules):
        account.redeem(points, origin_at(utc(2024, 4, 1)))


def test_no_redemption_beyond_the_available_balance():
    account = account_with_three_lots()
    lots_before = [lot.remaining for lot in account.lots]

    with pytest.raises(InsufficientPoints) as raised:
        account.redeem(700, origin_at(utc(2024, 4, 1)))

    assert (raised.value.available, raised.value.requested) == (650, 700)
    assert account.balance == 650
    assert [lot.remaining for lot in account.lots] == lots_before


def test_points_due_to_expire_are_not_available():
    account = account_with_three_lots()
    when = utc(2027, 1, 10, 2)  # the January lot has just expired

    assert account.available_at(when) == 350
    with pytest.raises(InsufficientPoints) as raised:
        account.redeem(400, origin_at(when))

    assert raised.value.available == 350
    assert account.balance == 650  # a refused redemption changes nothing


def test_a_redemption_reports_the_expiries_it_applied_first():
    account = account_with_three_lots()

    redemption = account.redeem(300, origin_at(utc(2027, 1, 10, 2) + timedelta(hours=1)))

    assert [(e.kind, e.points) for e in redemption.entries] == [
        (EntryKind.EXPIRE, -300),
        (EntryKind.REDEEM, -300),
    ]
    assert account.balance == 50


def test_nothing_is_available_while_the_balance_is_negative():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("100"), origin_at(T0))
    account.redeem(200, origin_at(T0))
    account.refund_order(order_id, Decimal("100"), origin_at(T0))

    assert account.balance == -200
    assert account.available_at(T0) == 0
    with pytest.raises(InsufficientPoints):
        account.redeem(100, origin_at(T0))
