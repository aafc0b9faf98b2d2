import pytest

from services.loyalty.rules.errors import RefusedByRules
from services.loyalty.rules.ledger import EntryKind, EntryReason
from services.loyalty.rules.rulebook import Rulebook
from services.loyalty.rules.tasks import Task
from tests.support.builders import new_id
from tests.unit.loyalty.factories import new_account, origin_at, utc

MORNING = utc(2024, 5, 1, 1)  # 09:00 Shanghai
EVENING = utc(2024, 5, 1, 15, 59)  # 23:59 Shanghai, same business day
NEXT_DAY = utc(2024, 5, 1, 16)  # 00:00 Shanghai, 2 May


@pytest.mark.parametrize(("task", "points"), [(Task.CHECK_IN, 10), (Task.SHARE, 100)])
def test_daily_tasks_pay_their_points(task, points):
    account = new_account()

    outcome = account.complete_task(task, origin_at(MORNING))

    (entry,) = outcome.entries
    assert (entry.kind, entry.reason, entry.points) == (EntryKind.EARN, task.entry_reason, points)
    assert account.balance == points


@pytest.mark.parametrize("task", [Task.CHECK_IN, Task.SHARE])
def test_daily_tasks_pay_once_per_business_day(task):
    account = new_account()
    account.complete_task(task, origin_at(MORNING))

    again = account.complete_task(task, origin_at(EVENING))
    next_day = account.complete_task(task, origin_at(NEXT_DAY))

    assert again.reward is None
    assert again.entries == ()
    assert next_day.reward is not None
    assert next_day.reward.business_day.isoformat() == "2024-05-02"


def test_check_in_and_share_are_counted_apart():
    account = new_account()

    account.complete_task(Task.CHECK_IN, origin_at(MORNING))
    account.complete_task(Task.SHARE, origin_at(MORNING))

    assert account.balance == 110


def test_a_review_pays_50_once_per_order():
    account = new_account()
    order_id = new_id("order")

    first = account.complete_task(Task.REVIEW, origin_at(MORNING), order_id=order_id)
    again = account.complete_task(Task.REVIEW, origin_at(NEXT_DAY), order_id=order_id)

    assert [e.points for e in first.entries] == [50]
    assert first.entries[0].reason is EntryReason.REVIEW
    assert first.entries[0].order_id == order_id
    assert again.reward is None


def test_reviews_of_two_orders_pay_once_a_day_by_default():
    account = new_account()
    account.complete_task(Task.REVIEW, origin_at(MORNING), order_id=new_id("order"))

    same_day = account.complete_task(Task.REVIEW, origin_at(EVENING), order_id=new_id("order"))
    next_day = account.complete_task(Task.REVIEW, origin_at(NEXT_DAY), order_id=new_id("order"))

    assert same_day.reward is None
    assert next_day.reward is not None


def test_reviews_of_two_orders_the_same_day_both_pay_when_the_rule_allows():
    account = new_account()
    rulebook = Rulebook(review_once_per_day=False)

    for _ in range(2):
        account.complete_task(Task.REVIEW, origin_at(MORNING, rulebook), order_id=new_id("order"))

    assert account.balance == 100


def test_a_review_needs_its_order_and_other_tasks_take_none():
    account = new_account()

    with pytest.raises(RefusedByRules):
        account.complete_task(Task.REVIEW, origin_at(MORNING))
    with pytest.raises(RefusedByRules):
        account.complete_task(Task.CHECK_IN, origin_at(MORNING), order_id="o-1")
    assert account.balance == 0
