"""Periodic work, as sweeps: each chunk of due accounts in a transaction of its own, chunk
after chunk until nothing is due, every chunk loaded and saved as a set (one statement per
table), like a run of events.

- Expiry: every lot due by `now` is expired (`points.expired`).
- Tier review: each account remembers the business month of its last review
  (`tier_reviewed_month`, the month it was opened for a new account). A sweep reviews the
  accounts not yet reviewed in the month `now` falls in — so the review runs once a month
  whatever the interval, and a sweep missed (service down) is caught up by the next one.
  A downgrade is one tier per review (`tier.changed` reason `downgrade_review`).

Chunks follow the customer id, so a sweep always ends, whatever another transaction does.
"""

from __future__ import annotations

import functools
from datetime import datetime

from services.loyalty.context import LoyaltyContext
from services.loyalty.repository.accounts import Wanted, load_accounts
from services.loyalty.repository.ledger import record_changes
from services.loyalty.repository.rulebook import rulebook_in_force
from services.loyalty.repository.saving import save_accounts
from services.loyalty.repository.sweeps import customers_due_for_review, customers_with_due_lots
from services.loyalty.rules.tiers import business_month_start, due_for_review
from shared.app import PeriodicTask, TransactionOpener


async def expire_due_points(begin: TransactionOpener, now: datetime, *, batch_size: int) -> None:
    """Expire every lot due by `now`, `batch_size` accounts a transaction."""
    after = ""
    while True:
        async with begin() as tx:
            rulebook = await rulebook_in_force(tx)
            customer_ids = await customers_with_due_lots(tx.session, now, after, batch_size)
            wanted = {c: Wanted(every_lot=False, lots_due_by=now) for c in customer_ids}
            accounts = await load_accounts(tx, rulebook, wanted)
            for loaded in accounts:
                if not loaded.is_stored:
                    continue
                entries = loaded.account.expire_due_lots(now, rulebook)
                if entries:
                    await record_changes(tx, accounts, loaded, entries)
            await save_accounts(tx, accounts)
        if len(customer_ids) < batch_size:
            return
        after = customer_ids[-1]


async def review_tiers(begin: TransactionOpener, now: datetime, *, batch_size: int) -> None:
    """The monthly review of every account not yet reviewed this month, `batch_size` accounts
    a transaction."""
    after = ""
    while True:
        async with begin() as tx:
            rulebook = await rulebook_in_force(tx)
            month = business_month_start(now, rulebook)
            customer_ids = await customers_due_for_review(tx.session, month, after, batch_size)
            wanted = {c: Wanted(times=[now], every_lot=False) for c in customer_ids}
            accounts = await load_accounts(tx, rulebook, wanted)
            for loaded in accounts:
                reviewed = loaded.reviewed_month
                if reviewed is None or not due_for_review(reviewed, now, rulebook):
                    continue
                change = loaded.account.review_tier(now, rulebook)
                loaded.reviewed_month = month
                await record_changes(tx, accounts, loaded, (), tier_change=change)
            await save_accounts(tx, accounts)
        if len(customer_ids) < batch_size:
            return
        after = customer_ids[-1]


def periodic_tasks(ctx: LoyaltyContext) -> list[PeriodicTask]:
    settings, batch = ctx.settings, ctx.task_batch_size
    return [
        PeriodicTask(
            "expire-points",
            settings.expiry_interval_s,
            functools.partial(expire_due_points, batch_size=batch),
        ),
        PeriodicTask(
            "tier-review",
            settings.tier_review_interval_s,
            functools.partial(review_tiers, batch_size=batch),
        ),
    ]
