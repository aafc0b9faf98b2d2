from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.loyalty.rules.business_time import add_calendar_years, business_day
from services.loyalty.rules.errors import RefusedByRules
from services.loyalty.rules.ledger import EntryKind, EntryReason
from services.loyalty.rules.tasks import Task
from tests.support.builders import new_id
from tests.unit.loyalty.factories import new_account, origin_at, utc

EARNED_AT = utc(2024, 5, 1, 2, 30)
EXPIRES_AT = utc(2027, 5, 1, 2, 30)


def test_three_calendar_years_later_is_the_same_clock_time():
    assert add_calendar_years(EARNED_AT, 3) == EXPIRES_AT


def test_a_leap_day_lands_on_the_28th_of_february():
    assert add_calendar_years(utc(2024, 2, 29, 12), 3) == utc(2027, 2, 28, 12)


def test_a_lot_expires_three_years_after_its_earn():
    account = new_account()

    outcome = account.complete_task(Task.SHARE, origin_at(EARNED_AT))

    new_lot = outcome.entries[0].new_lot
    assert new_lot is not None
    assert (new_lot.earned_at, new_lot.expires_at) == (EARNED_AT, EXPIRES_AT)


def test_a_second_before_three_years_the_lot_still_counts():
    account = new_account()
    account.complete_task(Task.SHARE, origin_at(EARNED_AT))

    entries = account.expire_due_lots(
        EXPIRES_AT - timedelta(seconds=1), origin_at(EARNED_AT).rulebook
    )

    assert entries == []
    assert account.balance == 100


def test_at_exactly_three_years_the_lot_expires():
    account = new_account()
    account.complete_task(Task.SHARE, origin_at(EARNED_AT))

    (expiry,) = account.expire_due_lots(EXPIRES_AT, origin_at(EARNED_AT).rulebook)

    assert (expiry.kind, expiry.reason, expiry.points) == (
        EntryKind.EXPIRE,
        EntryReason.EXPIRY,
        -100,
    )
    assert expiry.business_time == EXPIRES_AT
    assert [(a.points) for a in expiry.allocations] == [100]
    assert account.balance == 0


def test_only_what_remains_of_a_lot_expires_and_only_once():
    account = new_account()
    rulebook = origin_at(EARNED_AT).rulebook
    account.place_order(new_id("order"), Decimal("150"), origin_at(EARNED_AT))  # 300 points
    account.redeem(100, origin_at(EARNED_AT + timedelta(days=1)))

    first = account.expire_due_lots(EXPIRES_AT + timedelta(days=5), rulebook)
    second = account.expire_due_lots(EXPIRES_AT + timedelta(days=6), rulebook)

    assert [e.points for e in first] == [-200]
    assert second == []


def test_any_operation_first_expires_what_is_due_by_its_time():
    account = new_account()
    account.complete_task(Task.SHARE, origin_at(EARNED_AT))

    outcome = account.complete_task(Task.CHECK_IN, origin_at(EXPIRES_AT))

    assert [(e.kind, e.points) for e in outcome.entries] == [
        (EntryKind.EXPIRE, -100),
        (EntryKind.EARN, 10),
    ]
    assert account.balance == 10


def test_points_expiring_in_the_next_30_days():
    account = new_account()
    rulebook = origin_at(EARNED_AT).rulebook
    account.complete_task(Task.SHARE, origin_at(EARNED_AT))
    account.complete_task(Task.CHECK_IN, origin_at(EARNED_AT + timedelta(days=40)))

    assert account.expiring_soon(EXPIRES_AT - timedelta(days=30), rulebook) == 100
    assert account.expiring_soon(EXPIRES_AT - timedelta(days=31), rulebook) == 0
    assert account.expiring_soon(EXPIRES_AT + timedelta(days=10), rulebook) == 10


def test_the_business_day_follows_the_business_timezone():
    assert business_day(utc(2024, 5, 1, 15, 59), "Asia/Shanghai").isoformat() == "2024-05-01"
    assert business_day(utc(2024, 5, 1, 16), "Asia/Shanghai").isoformat() == "2024-05-02"
    assert business_day(utc(2024, 5, 1, 16), "UTC").isoformat() == "2024-05-01"


def test_other_offsets_are_normalised_to_utc():
    account = new_account()
    shanghai = timezone(timedelta(hours=8))

    outcome = account.complete_task(
        Task.SHARE, origin_at(datetime(2024, 5, 1, 10, tzinfo=shanghai))
    )

    assert outcome.entries[0].business_time == datetime(2024, 5, 1, 2, tzinfo=UTC)


def test_naive_datetimes_are_refused():
    account = new_account()

    with pytest.raises(RefusedByRules):
        account.complete_task(Task.SHARE, origin_at(datetime(2024, 5, 1, 10)))


def test_a_leap_day_lot_expires_at_the_same_time_on_the_28th_of_february():
    account = new_account()
    leap_day = utc(2024, 2, 29, 3)
    rulebook = origin_at(leap_day).rulebook
    account.complete_task(Task.SHARE, origin_at(leap_day))

    before = account.expire_due_lots(utc(2027, 2, 28, 2, 59, 59), rulebook)
    at_the_instant = account.expire_due_lots(utc(2027, 2, 28, 3), rulebook)

    assert before == []
    assert [e.points for e in at_the_instant] == [-100]
