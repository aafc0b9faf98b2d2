"""Periodic work, each a function of (session, now) run in one transaction per pass.

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
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.handlers.common import commit_changes
from services.loyalty.models import Account, Lot
from services.loyalty.rule_store import rules_in_force
from services.loyalty.settings import LoyaltySettings
from services.loyalty.store import load_account, month_start
from shared.app import PeriodicTask


async def expire_due_points(session: AsyncSession, now: datetime, *, batch_size: int = 500) -> None:
    """Expire the due lots of up to `batch_size` accounts."""
    rules = await rules_in_force(session)
    customer_ids = list(
        await session.scalars(
            select(Lot.customer_id)
            .where(Lot.remaining > 0, Lot.expires_at <= now)
            .group_by(Lot.customer_id)
            .order_by(Lot.customer_id)
            .limit(batch_size)
        )
    )
    for customer_id in customer_ids:
        loaded = await load_account(session, customer_id, at=now, rules=rules)
        if loaded is None:
            continue
        entries = loaded.account.expire_due_lots(now, rules)
        if entries:
            await commit_changes(session, loaded, entries, rules, now=now)


async def review_tiers(session: AsyncSession, now: datetime, *, batch_size: int = 500) -> None:
    """The monthly review of up to `batch_size` accounts not yet reviewed this month."""
    rules = await rules_in_force(session)
    month = month_start(now, rules)
    due = select(Account.customer_id).where(Account.tier_reviewed_month < month)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    customer_ids = list(await session.scalars(due.order_by(Account.customer_id).limit(batch_size)))
    for customer_id in customer_ids:
        loaded = await load_account(session, customer_id, at=now, rules=rules)
        if loaded is None or loaded.row.tier_reviewed_month >= month:
            continue
        change = loaded.account.review_tier(now, rules)
        loaded.row.tier_reviewed_month = month
        await commit_changes(session, loaded, (), rules, now=now, tier_change=change)


def periodic_tasks(settings: LoyaltySettings) -> list[PeriodicTask]:
    batch = settings.task_batch_size
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
