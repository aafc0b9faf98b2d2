"""Task rewards: check-in and share once per business day; review once per order.

By default a review is also rewarded at most once per business day, as DESIGN §4 says of
every task ("once per day each"); `review_once_per_day=False` lifts that.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.loyalty.rules.business_time import business_day
from services.loyalty.rules.errors import RefusedByRules
from services.loyalty.rules.ledger import EntryReason
from services.loyalty.rules.rulebook import Rulebook


class Task(StrEnum):
    CHECK_IN = "check_in"
    SHARE = "share"
    REVIEW = "review"

    @property
    def entry_reason(self) -> EntryReason:
        return EntryReason(self.value)


@dataclass(frozen=True, slots=True)
class TaskReward:
    task: Task
    points: int
    business_day: date
    # Once-only keys this reward claims; the database keeps them unique per customer.
    claimed_keys: tuple[str, ...]
    order_id: str | None
    rule_version: int


def task_points(task: Task, rulebook: Rulebook) -> int:
    return {
        Task.CHECK_IN: rulebook.check_in_points,
        Task.SHARE: rulebook.share_points,
        Task.REVIEW: rulebook.review_points,
    }[task]


def task_reward_keys(
    task: Task, at: datetime, rulebook: Rulebook, order_id: str | None = None
) -> tuple[str, ...]:
    day = business_day(at, rulebook.business_timezone)
    if task is not Task.REVIEW:
        if order_id is not None:
            raise RefusedByRules(f"task {task} takes no order_id")
        return (f"task:{task}:day:{day.isoformat()}",)
    if not order_id:
        raise RefusedByRules("a review reward needs the order_id it reviews")
    keys = [f"task:review:order:{order_id}"]
    if rulebook.review_once_per_day:
        keys.append(f"task:review:day:{day.isoformat()}")
    return tuple(keys)


def decide_task_reward(
    task: Task,
    at: datetime,
    rulebook: Rulebook,
    claimed_keys: Container[str],
    order_id: str | None = None,
) -> TaskReward | None:
    """The reward for doing `task` at `at`, or None when it was already rewarded."""
    keys = task_reward_keys(task, at, rulebook, order_id)
    if any(key in claimed_keys for key in keys):
        return None
    return TaskReward(
        task=task,
        points=task_points(task, rulebook),
        business_day=business_day(at, rulebook.business_timezone),
        claimed_keys=keys,
        order_id=order_id,
        rule_version=rulebook.version,
    )
