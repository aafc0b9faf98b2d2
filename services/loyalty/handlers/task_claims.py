"""Daily tasks claimed through the API: check-in and share, once per business day each.

A second claim the same business day is refused with 409 `already_claimed`, so a client can
tell "done, credited" from "nothing happened".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.domain import EntryKind, Origin, Task, business_day
from services.loyalty.domain.tasks import task_reward_keys
from services.loyalty.handlers.common import commit_changes, known
from services.loyalty.rule_store import rules_in_force
from services.loyalty.store import load_account, new_public_id
from shared.errors import Conflict


@dataclass(frozen=True)
class TaskClaim:
    customer_id: str
    task: Task
    business_day: date
    points: int
    credited: int
    held: int
    balance: int
    rule_version: int


async def claim_task(
    session: AsyncSession, customer_id: str, task: Task, *, now: datetime
) -> TaskClaim:
    rules = await rules_in_force(session)
    keys = task_reward_keys(task, now, rules)
    loaded = known(
        await load_account(session, customer_id, at=now, rules=rules, reward_keys=keys),
        customer_id,
    )
    outcome = loaded.account.complete_task(task, Origin(new_public_id("task"), now, rules))
    day = business_day(now, rules.business_timezone)
    if outcome.reward is None:
        raise Conflict(
            "already_claimed",
            f"The {task} task was already rewarded on {day.isoformat()}.",
            task=str(task),
            business_day=day.isoformat(),
        )
    rows = await commit_changes(session, loaded, outcome.entries, rules, now=now)
    credited = sum(row.points for row in rows if row.kind == EntryKind.EARN)
    held = sum(row.points for row in rows if row.kind == EntryKind.HOLD)
    return TaskClaim(
        customer_id=customer_id,
        task=task,
        business_day=day,
        points=outcome.reward.points,
        credited=credited,
        held=held,
        balance=loaded.account.balance,
        rule_version=rules.version,
    )
