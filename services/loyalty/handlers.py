"""The events loyalty consumes; each handler runs in the consumer's transaction of its run.

An event's id is the source id of the entries it makes and its `time` their business time.
The rulebook applied is the one in force when the event is handled; each entry keeps its
version. An event the rules refuse can never be applied: it is dead-lettered with the reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from services.loyalty.context import LoyaltyContext
from services.loyalty.repository.accounts import (
    customer_details,
    open_account,
    save_customer_details,
)
from services.loyalty.repository.ledger import record_changes
from services.loyalty.repository.rulebook import rulebook_in_force
from services.loyalty.rules.announcements import ANNOUNCED
from services.loyalty.rules.book import Origin
from services.loyalty.rules.details import details_after_erasure, details_after_update
from services.loyalty.rules.errors import LoyaltyError
from services.loyalty.rules.referral import ReferralAward, referrer_reward_key
from services.loyalty.rules.tasks import Task, task_reward_keys
from shared.events.catalogue import (
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
    OrderPlaced,
    OrderRefunded,
    ReviewPosted,
)
from shared.events.envelope import TypedEvent
from shared.messaging.errors import EventRejected
from shared.subscriptions import Subscriptions
from shared.transaction import Transaction

subscriptions = Subscriptions[LoyaltyContext]("loyalty", publishes=ANNOUNCED, autoflush=False)
"""Autoflush is off: a run's changes stay in the rows in hand and are written together."""


@subscriptions.on(CustomerRegistered, CustomerUpdated)
async def on_customer_details(
    event: TypedEvent[CustomerRegistered] | TypedEvent[CustomerUpdated],
    tx: Transaction,
    ctx: LoyaltyContext,
) -> None:
    """Birthday (for the birthday month) and referrer (once, never oneself); nothing once
    the customer is erased."""
    data = event.data
    rulebook = await rulebook_in_force(tx)
    details = await customer_details(tx, data.customer_id, event.time, rulebook)
    updated = details_after_update(
        details,
        birthday=data.birthday,
        birthday_given="birthday" in data.model_fields_set,
        referrer_id=data.referrer_id,
    )
    if updated is not None:
        save_customer_details(tx, updated)


@subscriptions.on(CustomerErased)
async def on_customer_erased(
    event: TypedEvent[CustomerErased], tx: Transaction, ctx: LoyaltyContext
) -> None:
    """Forget birthday and referrer; the ledger holds no personal data and stays."""
    data = event.data
    rulebook = await rulebook_in_force(tx)
    details = await customer_details(tx, data.customer_id, event.time, rulebook)
    save_customer_details(tx, details_after_erasure(details, data.erased_at))


@subscriptions.on(OrderPlaced)
async def on_order_placed(
    event: TypedEvent[OrderPlaced], tx: Transaction, ctx: LoyaltyContext
) -> None:
    """Earn on the order; a referred customer's first order also rewards the referrer."""
    data = event.data
    rulebook = await rulebook_in_force(tx)
    loaded = await open_account(
        tx,
        data.customer_id,
        at=event.time,
        rulebook=rulebook,
        order_ids=[data.order_id],
        with_referral_keys=True,
    )
    origin = Origin(event.envelope.id, event.time, rulebook)
    with _rejected_by_rules():
        outcome = loaded.account.place_order(data.order_id, data.amount, origin)
    if outcome.duplicate:
        return
    await record_changes(tx, loaded, outcome.entries, rulebook, tier_change=outcome.tier_change)
    if outcome.referral_award is not None:
        await _credit_referrer(tx, outcome.referral_award, origin)


async def _credit_referrer(tx: Transaction, award: ReferralAward, origin: Origin) -> None:
    referrer = await open_account(
        tx,
        award.referrer_id,
        at=origin.at,
        rulebook=origin.rulebook,
        reward_keys=[referrer_reward_key(award.referee_id)],
    )
    with _rejected_by_rules():
        entries = referrer.account.credit_referrer_bonus(award, origin)
    await record_changes(tx, referrer, entries, origin.rulebook)


@subscriptions.on(OrderRefunded)
async def on_order_refunded(
    event: TypedEvent[OrderRefunded], tx: Transaction, ctx: LoyaltyContext
) -> None:
    """Claw back the refunded share; a refund ahead of its order waits for the order."""
    data = event.data
    rulebook = await rulebook_in_force(tx)
    loaded = await open_account(
        tx, data.customer_id, at=event.time, rulebook=rulebook, order_ids=[data.order_id]
    )
    origin = Origin(event.envelope.id, event.time, rulebook)
    with _rejected_by_rules():
        outcome = loaded.account.refund_order(data.order_id, data.amount, origin)
    if not outcome.duplicate:
        await record_changes(tx, loaded, outcome.entries, rulebook)


@subscriptions.on(ReviewPosted)
async def on_review_posted(
    event: TypedEvent[ReviewPosted], tx: Transaction, ctx: LoyaltyContext
) -> None:
    """50 points once per order reviewed (and, by default, once per business day)."""
    data = event.data
    rulebook = await rulebook_in_force(tx)
    with _rejected_by_rules():
        keys = task_reward_keys(Task.REVIEW, event.time, rulebook, data.order_id)
    loaded = await open_account(
        tx, data.customer_id, at=event.time, rulebook=rulebook, reward_keys=keys
    )
    origin = Origin(event.envelope.id, event.time, rulebook)
    with _rejected_by_rules():
        outcome = loaded.account.complete_task(Task.REVIEW, origin, data.order_id)
    if outcome.reward is not None:
        await record_changes(tx, loaded, outcome.entries, rulebook)


@contextlib.contextmanager
def _rejected_by_rules() -> Iterator[None]:
    """An event the rules refuse can never be applied: dead-letter it, with the reason."""
    try:
        yield
    except LoyaltyError as exc:
        raise EventRejected("rejected_by_rules", str(exc)) from exc
