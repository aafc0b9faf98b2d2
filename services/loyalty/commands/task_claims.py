"""Daily tasks claimed through the API: check-in and share, once per business day each.

A second claim the same business day is refused with 409 `already_claimed`, so a client can
tell "done, credited" from "nothing happened".
"""

from __future__ import annotations

from services.loyalty.repository.accounts import Wanted, load_accounts
from services.loyalty.repository.ledger import record_changes
from services.loyalty.repository.rows import new_public_id
from services.loyalty.repository.rulebook import rulebook_in_force
from services.loyalty.repository.saving import save_accounts
from services.loyalty.rules.book import Origin
from services.loyalty.rules.business_time import business_day
from services.loyalty.rules.tasks import Task, task_reward_keys
from services.loyalty.schemas import TaskClaimPublic
from shared.errors import Conflict, NotFound
from shared.transaction import Transaction


async def claim_task(tx: Transaction, customer_id: str, task: Task) -> TaskClaimPublic:
    rulebook = await rulebook_in_force(tx)
    keys = task_reward_keys(task, tx.now, rulebook)
    wanted = Wanted(times=[tx.now], reward_keys=set(keys))
    accounts = await load_accounts(tx, rulebook, {customer_id: wanted})
    loaded = accounts.stored(customer_id)
    if loaded is None:
        raise NotFound("loyalty account", customer_id)
    outcome = loaded.account.complete_task(task, Origin(new_public_id("task"), tx.now, rulebook))
    day = business_day(tx.now, rulebook.business_timezone)
    if outcome.reward is None:
        raise Conflict(
            "already_claimed",
            f"The {task} task was already rewarded on {day.isoformat()}.",
            task=str(task),
            business_day=day.isoformat(),
        )
    await record_changes(tx, accounts, loaded, outcome.entries)
    await save_accounts(tx, accounts)
    return TaskClaimPublic(
        customer_id=customer_id,
        task=str(task),
        business_day=day,
        points=outcome.reward.points,
        credited=outcome.credited,
        held=outcome.held,
        balance=loaded.account.balance,
        rule_version=rulebook.version,
    )
