"""Periodic work, each pass one transaction at the pass's business time.

- Expiry: every lot due by `now` is expired (`points.expired`), up to a batch of accounts a
  pass; the next pass picks up the rest.
- Tier review: each account remembers the business month of its last review
  (`tier_reviewed_month`, the month it was opened for a new account). A pass reviews the
  accounts not yet reviewed in the month `now` falls in — so the review runs once a month
  whatever the pass interval, and a pass missed (service down) is caught up by the next one.
  A downgrade is one tier per review (`tier.changed` reason `downgrade_review`).
"""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import select

from services.loyalty.context import LoyaltyContext
from services.loyalty.models import Account, Lot
from services.loyalty.repository.accounts import load_account
from services.loyalty.repository.ledger import record_changes
from services.loyalty.repository.rulebook import rulebook_in_force
from services.loyalty.rules.tiers import business_month_start, due_for_review
from shared.app import PeriodicTask, TransactionOpener


async def expire_due_points(begin: TransactionOpener, now: datetime, *, batch_size: int) -> None:
    """Expire the due lots of up to `batch_size` accounts."""
    async with begin() as tx:
        rulebook = await rulebook_in_force(tx)
        customer_ids = list(
            await tx.session.scalars(
                select(Lot.customer_id)
                .where(Lot.remaining > 0, Lot.expires_at <= now)
                .group_by(Lot.customer_id)
                .order_by(Lot.customer_id)
                .limit(batch_size)
            )
        )
        for customer_id in customer_ids:
            loaded = await load_account(tx, customer_id, at=now, rulebook=rulebook)
            if loaded is None:
                continue
            entries = loaded.account.expire_due_lots(now, rulebook)
            if entries:
                await record_changes(tx, loaded, entries, rulebook)


async def review_tiers(begin: TransactionOpener, now: datetime, *, batch_size: int) -> None:
    """The monthly review of up to `batch_size` accounts not yet reviewed this month."""
    async with begin() as tx:
        rulebook = await rulebook_in_force(tx)
        month = business_month_start(now, rulebook)
        due = select(Account.customer_id).where(Account.tier_reviewed_month < month)
        if tx.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        customer_ids = list(
            await tx.session.scalars(due.order_by(Account.customer_id).limit(batch_size))
        )
        for customer_id in customer_ids:
            loaded = await load_account(tx, customer_id, at=now, rulebook=rulebook)
            if loaded is None or not due_for_review(loaded.row.tier_reviewed_month, now, rulebook):
                continue
            change = loaded.account.review_tier(now, rulebook)
            loaded.row.tier_reviewed_month = month
            await record_changes(tx, loaded, (), rulebook, tier_change=change)


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
