"""The consumer's handlers; each runs in the transaction of the inbox row of its event.

An event's id is the source id of the entries it makes and its `time` their business time.
The rules applied are those in force when the event is handled; each entry keeps the version.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.domain import (
    LoyaltyRules,
    Origin,
    ReferralAward,
    Task,
    accept_referrer,
)
from services.loyalty.domain.referral import REFEREE_REWARD_KEY, referrer_reward_key
from services.loyalty.domain.tasks import task_reward_keys
from services.loyalty.handlers.common import commit_changes, rejected_by_rules
from services.loyalty.models import Account
from services.loyalty.rule_store import rules_in_force
from services.loyalty.store import LoadedAccount, load_account, open_account_row
from shared.clock import Clock, SystemClock
from shared.events.catalogue import (
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
    OrderPlaced,
    OrderRefunded,
    ReviewPosted,
)
from shared.events.envelope import TypedEvent


async def on_customer_details(
    session: AsyncSession,
    event: TypedEvent[CustomerRegistered] | TypedEvent[CustomerUpdated],
    *,
    clock: Clock,
) -> None:
    """Birthday (for the birthday month) and referrer (once, never oneself); nothing once
    the customer is erased."""
    data = event.data
    rules = await rules_in_force(session)
    row = await open_account_row(session, data.customer_id, event.time, rules)
    if row.erased_at is not None:
        return
    if "birthday" in data.model_fields_set:
        row.birthday = data.birthday
    if row.referrer_id is None:
        row.referrer_id = accept_referrer(data.customer_id, data.referrer_id)
    row.updated_at = clock.now()


async def on_customer_erased(
    session: AsyncSession, event: TypedEvent[CustomerErased], *, clock: Clock
) -> None:
    """Forget birthday and referrer; the ledger holds no personal data and stays."""
    data = event.data
    rules = await rules_in_force(session)
    row = await open_account_row(session, data.customer_id, event.time, rules)
    row.birthday = None
    row.referrer_id = None
    row.erased_at = row.erased_at or data.erased_at
    row.updated_at = clock.now()


async def on_order_placed(
    session: AsyncSession, event: TypedEvent[OrderPlaced], *, clock: Clock
) -> None:
    data = event.data
    rules = await rules_in_force(session)
    row = await open_account_row(session, data.customer_id, event.time, rules)
    loaded = await _open_account(
        session,
        data.customer_id,
        event.time,
        rules,
        order_ids=[data.order_id],
        reward_keys=_referee_reward_keys(row),
    )
    origin = Origin(event.envelope.id, event.time, rules)
    with rejected_by_rules():
        outcome = loaded.account.place_order(data.order_id, data.amount, origin)
    if outcome.duplicate:
        return
    now = clock.now()
    await commit_changes(
        session, loaded, outcome.entries, rules, now=now, tier_change=outcome.tier_change
    )
    if outcome.referral_award is not None:
        await _credit_referrer(session, outcome.referral_award, origin, now)


def _referee_reward_keys(row: Account) -> list[str]:
    """The referee's bonus is only ever due on a referred customer's first order: only then
    is it worth looking up whether it was given."""
    return [REFEREE_REWARD_KEY] if row.referrer_id and row.orders_placed == 0 else []


async def _credit_referrer(
    session: AsyncSession, award: ReferralAward, origin: Origin, now: datetime
) -> None:
    referrer = await _open_account(
        session,
        award.referrer_id,
        origin.at,
        origin.rules,
        reward_keys=[referrer_reward_key(award.referee_id)],
    )
    with rejected_by_rules():
        entries = referrer.account.credit_referrer_bonus(award, origin)
    await commit_changes(session, referrer, entries, origin.rules, now=now)


async def on_order_refunded(
    session: AsyncSession, event: TypedEvent[OrderRefunded], *, clock: Clock
) -> None:
    """Claw back the refunded share; a refund ahead of its order waits for the order."""
    data = event.data
    rules = await rules_in_force(session)
    loaded = await _open_account(
        session, data.customer_id, event.time, rules, order_ids=[data.order_id]
    )
    origin = Origin(event.envelope.id, event.time, rules)
    with rejected_by_rules():
        outcome = loaded.account.refund_order(data.order_id, data.amount, origin)
    if not outcome.duplicate:
        await commit_changes(session, loaded, outcome.entries, rules, now=clock.now())


async def on_review_posted(
    session: AsyncSession, event: TypedEvent[ReviewPosted], *, clock: Clock
) -> None:
    """50 points once per order reviewed (and, by default, once per business day)."""
    data = event.data
    rules = await rules_in_force(session)
    with rejected_by_rules():
        keys = task_reward_keys(Task.REVIEW, event.time, rules, data.order_id)
    loaded = await _open_account(session, data.customer_id, event.time, rules, reward_keys=keys)
    origin = Origin(event.envelope.id, event.time, rules)
    with rejected_by_rules():
        outcome = loaded.account.complete_task(Task.REVIEW, origin, data.order_id)
    if outcome.reward is not None:
        await commit_changes(session, loaded, outcome.entries, rules, now=clock.now())


async def _open_account(
    session: AsyncSession,
    customer_id: str,
    at: datetime,
    rules: LoyaltyRules,
    *,
    order_ids: Iterable[str] = (),
    reward_keys: Iterable[str] = (),
) -> LoadedAccount:
    """The account of a customer an event names, opened on first sight."""
    loaded = await load_account(
        session,
        customer_id,
        at=at,
        rules=rules,
        order_ids=order_ids,
        reward_keys=reward_keys,
        open_if_missing=True,
    )
    assert loaded is not None
    return loaded


def event_handlers(clock: Clock | None = None) -> dict[str, Any]:
    """Handlers by event type; `clock` gives the time entries are recorded at."""
    clock = clock or SystemClock()
    handlers: dict[str, Callable[..., Awaitable[None]]] = {
        "customer.registered": on_customer_details,
        "customer.updated": on_customer_details,
        "customer.erased": on_customer_erased,
        "order.placed": on_order_placed,
        "order.refunded": on_order_refunded,
        "review.posted": on_review_posted,
    }
    return {topic: functools.partial(handler, clock=clock) for topic, handler in handlers.items()}
