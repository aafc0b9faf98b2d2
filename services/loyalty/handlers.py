"""The events loyalty consumes, each type handled a run at a time in the consumer's transaction.

Every handler loads the accounts its run names with one query per table
(`repository.accounts.load_accounts`), applies the pure rules to the events in partition
order in memory, and writes what changed with one statement per table
(`repository.saving.save_accounts`). A run of one event is the same code: the kit redoes a
failed run one event at a time.

An event's id is the source id of the entries it makes and its `time` their business time.
The rulebook applied is the one in force when the run's transaction first reads it; each
entry keeps its version. An event the rules refuse can never be applied: it is dead-lettered
with the reason.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from services.loyalty.context import LoyaltyContext
from services.loyalty.repository.accounts import Wanted, load_accounts
from services.loyalty.repository.ledger import record_changes
from services.loyalty.repository.rulebook import rulebook_in_force
from services.loyalty.repository.saving import save_accounts
from services.loyalty.rules.announcements import ANNOUNCED
from services.loyalty.rules.book import Origin
from services.loyalty.rules.details import details_after_erasure, details_after_update
from services.loyalty.rules.errors import LoyaltyError
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

subscriptions = Subscriptions[LoyaltyContext]("loyalty", publishes=ANNOUNCED)

Details = TypedEvent[CustomerRegistered] | TypedEvent[CustomerUpdated]


@subscriptions.on_batch(CustomerRegistered, CustomerUpdated)
async def on_customer_details(
    events: Sequence[Details], tx: Transaction, ctx: LoyaltyContext
) -> None:
    """Birthday (for the birthday month) and referrer (once, never oneself); nothing once
    the customer is erased."""
    rulebook = await rulebook_in_force(tx)
    accounts = await load_accounts(tx, rulebook, _named(events), book=False)
    for event in events:
        data = event.data
        loaded = accounts.open(data.customer_id, event.time)
        updated = details_after_update(
            loaded.details,
            birthday=data.birthday,
            birthday_given="birthday" in data.model_fields_set,
            referrer_id=data.referrer_id,
        )
        if updated is not None:
            loaded.keep_details(updated)
    await save_accounts(tx, accounts)


@subscriptions.on_batch(CustomerErased)
async def on_customers_erased(
    events: Sequence[TypedEvent[CustomerErased]], tx: Transaction, ctx: LoyaltyContext
) -> None:
    """Forget birthday and referrer; the ledger holds no personal data and stays."""
    tx.erase()
    rulebook = await rulebook_in_force(tx)
    accounts = await load_accounts(tx, rulebook, _named(events), book=False)
    for event in events:
        loaded = accounts.open(event.data.customer_id, event.time)
        loaded.keep_details(details_after_erasure(loaded.details, event.data.erased_at))
    await save_accounts(tx, accounts)


@subscriptions.on_batch(OrderPlaced)
async def on_orders_placed(
    events: Sequence[TypedEvent[OrderPlaced]], tx: Transaction, ctx: LoyaltyContext
) -> None:
    """Earn on each order; a referred customer's first order also rewards the referrer (whose
    account is loaded with the run's)."""
    rulebook = await rulebook_in_force(tx)
    times, order_ids = _by_customer(events), defaultdict[str, set[str]](set)
    for event in events:
        order_ids[event.data.customer_id].add(event.data.order_id)
    wanted = {c: Wanted.earning_at(at, order_ids=order_ids[c]) for c, at in times.items()}
    accounts = await load_accounts(tx, rulebook, wanted, referrals=True)
    for event in events:
        data = event.data
        loaded = accounts.open(data.customer_id, event.time)
        origin = Origin(event.envelope.id, event.time, rulebook)
        with _rejected_by_rules():
            outcome = loaded.account.place_order(data.order_id, data.amount, origin)
        if outcome.duplicate:
            continue
        await record_changes(tx, accounts, loaded, outcome.entries, tier_change=outcome.tier_change)
        award = outcome.referral_award
        if award is not None:
            referrer = accounts.open(award.referrer_id, origin.at)
            with _rejected_by_rules():
                entries = referrer.account.credit_referrer_bonus(award, origin)
            await record_changes(tx, accounts, referrer, entries)
    await save_accounts(tx, accounts)


@subscriptions.on_batch(OrderRefunded)
async def on_orders_refunded(
    events: Sequence[TypedEvent[OrderRefunded]], tx: Transaction, ctx: LoyaltyContext
) -> None:
    """Claw back the refunded share; a refund ahead of its order waits for the order."""
    rulebook = await rulebook_in_force(tx)
    wanted: dict[str, Wanted] = defaultdict(Wanted)
    for event in events:
        needs = wanted[event.data.customer_id]
        needs.order_ids.add(event.data.order_id)
        needs.refunds_of.add(event.data.order_id)
    accounts = await load_accounts(tx, rulebook, wanted)
    for event in events:
        data = event.data
        loaded = accounts.open(data.customer_id, event.time)
        origin = Origin(event.envelope.id, event.time, rulebook)
        with _rejected_by_rules():
            outcome = loaded.account.refund_order(data.order_id, data.amount, origin)
        if not outcome.duplicate:
            await record_changes(tx, accounts, loaded, outcome.entries)
    await save_accounts(tx, accounts)


@subscriptions.on_batch(ReviewPosted)
async def on_reviews_posted(
    events: Sequence[TypedEvent[ReviewPosted]], tx: Transaction, ctx: LoyaltyContext
) -> None:
    """50 points once per order reviewed (and, by default, once per business day)."""
    rulebook = await rulebook_in_force(tx)
    times, keys = _by_customer(events), defaultdict[str, set[str]](set)
    for event in events:
        with _rejected_by_rules():
            review = task_reward_keys(Task.REVIEW, event.time, rulebook, event.data.order_id)
        keys[event.data.customer_id].update(review)
    wanted = {c: Wanted.earning_at(at, reward_keys=keys[c]) for c, at in times.items()}
    accounts = await load_accounts(tx, rulebook, wanted)
    for event in events:
        data = event.data
        loaded = accounts.open(data.customer_id, event.time)
        origin = Origin(event.envelope.id, event.time, rulebook)
        with _rejected_by_rules():
            outcome = loaded.account.complete_task(Task.REVIEW, origin, data.order_id)
        if outcome.reward is not None:
            await record_changes(tx, accounts, loaded, outcome.entries)
    await save_accounts(tx, accounts)


def _by_customer(events: Sequence[TypedEvent[Any]]) -> dict[str, list[datetime]]:
    """The times of each customer's events."""
    times: dict[str, list[datetime]] = defaultdict(list)
    for event in events:
        times[event.data.customer_id].append(event.time)
    return times


def _named(events: Sequence[TypedEvent[Any]]) -> dict[str, Wanted]:
    """Each customer the events name, for handlers that need only the account rows."""
    return {event.data.customer_id: Wanted() for event in events}


@contextlib.contextmanager
def _rejected_by_rules() -> Iterator[None]:
    """An event the rules refuse can never be applied: dead-letter it, with the reason."""
    try:
        yield
    except LoyaltyError as exc:
        raise EventRejected("rejected_by_rules", str(exc)) from exc
