from decimal import Decimal

import pytest

from services.loyalty.rules.account import order_key
from services.loyalty.rules.caps import split_by_daily_cap
from services.loyalty.rules.errors import UnknownHold
from services.loyalty.rules.ledger import EntryKind
from services.loyalty.rules.rulebook import Rulebook
from services.loyalty.rules.tasks import Task
from tests.support.builders import new_id
from tests.unit.loyalty.factories import new_account, origin_at, utc

DAY = utc(2024, 5, 1, 2)  # 10:00 in Shanghai
NEXT_BUSINESS_DAY = utc(2024, 5, 1, 16)  # midnight in Shanghai


@pytest.mark.parametrize(
    ("points", "earned_today", "credited", "held"),
    [
        (100, 0, 100, 0),
        (5000, 0, 5000, 0),
        (5001, 0, 5000, 1),
        (300, 4900, 100, 200),
        (50, 6000, 0, 50),
    ],
)
def test_split_by_daily_cap(points, earned_today, credited, held):
    split = split_by_daily_cap(points, earned_today, 5000)

    assert (split.credited, split.held) == (credited, held)


def test_points_over_the_daily_cap_are_held_not_lost():
    account = new_account()
    order_id = new_id("order")

    outcome = account.place_order(order_id, Decimal("3000"), origin_at(DAY))  # first: 6000 pts

    earn, hold = outcome.entries
    assert (earn.kind, earn.points) == (EntryKind.EARN, 5000)
    assert (hold.kind, hold.points, hold.hold_id) == (EntryKind.HOLD, 1000, order_key(order_id))
    assert account.balance == 5000
    assert account.held == 1000


def test_once_the_cap_is_reached_the_rest_of_the_day_is_held():
    account = new_account()
    account.place_order(new_id("order"), Decimal("2500"), origin_at(DAY))  # 5000 points

    outcome = account.complete_task(Task.CHECK_IN, origin_at(DAY))

    assert [(e.kind, e.points) for e in outcome.entries] == [(EntryKind.HOLD, 10)]
    assert account.balance == 5000
    assert account.held == 10


def test_the_cap_starts_afresh_on_the_next_business_day():
    account = new_account()
    account.place_order(new_id("order"), Decimal("2500"), origin_at(DAY))

    outcome = account.place_order(new_id("order"), Decimal("100"), origin_at(NEXT_BUSINESS_DAY))

    # 2500 yuan made the customer silver at once: 100 x 1.1, credited in full.
    assert [(e.kind, e.points) for e in outcome.entries] == [(EntryKind.EARN, 110)]


def test_the_cap_is_a_rule():
    account = new_account()
    rulebook = Rulebook(daily_earn_cap=150)

    outcome = account.place_order(new_id("order"), Decimal("100"), origin_at(DAY, rulebook))

    assert [(e.kind, e.points) for e in outcome.entries] == [
        (EntryKind.EARN, 150),
        (EntryKind.HOLD, 50),
    ]


def test_releasing_a_hold_credits_it_as_a_lot_dated_from_the_earn():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("3000"), origin_at(DAY))

    (release,) = account.release_hold(order_key(order_id), origin_at(utc(2024, 5, 3)))

    assert (release.kind, release.points) == (EntryKind.RELEASE, 1000)
    assert release.new_lot is not None
    assert release.new_lot.earned_at == DAY
    assert release.new_lot.expires_at == utc(2027, 5, 1, 2)
    assert account.balance == 6000
    assert account.held == 0


def test_cancelling_a_hold_drops_it_and_the_order_keeps_what_it_was_credited():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("3000"), origin_at(DAY))

    (cancel,) = account.cancel_hold(order_key(order_id), origin_at(utc(2024, 5, 3)))

    assert (cancel.kind, cancel.points) == (EntryKind.HOLD, -1000)
    assert account.balance == 5000
    assert account.held == 0
    assert account.orders[order_id].points_awarded == 5000


def test_an_unknown_or_settled_hold_cannot_be_released_twice():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("3000"), origin_at(DAY))
    account.release_hold(order_key(order_id), origin_at(DAY))

    with pytest.raises(UnknownHold):
        account.release_hold(order_key(order_id), origin_at(DAY))
    with pytest.raises(UnknownHold):
        account.cancel_hold("no-such-hold", origin_at(DAY))
