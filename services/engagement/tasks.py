"""Periodic work: the delivery task hands every due pending message to its adapter.

Each pass claims a set of due messages in one short transaction (the decision taken again
first, for the whole set: one read of their customers, one grouped count under the cap, so a
customer silenced or unsubscribed meanwhile gets nothing), then sends each message with no
transaction open and settles the set in another short one (`commands/delivery.py`). Passes
follow each other until one finds less than a full set due.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from services.engagement.commands.decisions import settle
from services.engagement.commands.delivery import Claimed, claim, deliver_claimed
from services.engagement.context import EngagementContext
from services.engagement.repository.customers import contact_of, load_customers, state_of
from services.engagement.repository.messages import (
    SETTLEMENT,
    MessageRecord,
    due_messages,
    marketing_in_window,
    update_messages,
)
from services.engagement.rules.channels import Channel, Purpose
from services.engagement.rules.decision import (
    Outcome,
    OutgoingMessage,
    cap_window_start,
    counts_against_cap,
    decide_with_contact,
    marketing_sent_in_window,
)
from shared.app import PeriodicTask, TransactionOpener
from shared.transaction import Transaction


def delivery_task(ctx: EngagementContext) -> PeriodicTask:
    async def run(begin: TransactionOpener, _now: datetime) -> None:
        while await deliver_due(begin, ctx) >= ctx.settings.delivery_batch_size:
            pass

    return PeriodicTask("deliver_messages", ctx.settings.delivery_interval_s, run)


async def deliver_due(begin: TransactionOpener, ctx: EngagementContext) -> int:
    """One pass of the delivery worker; returns how many messages it claimed."""
    async with begin() as tx:
        claimed = await claim_due(tx, ctx)
    await deliver_claimed(begin, ctx, claimed)
    return len(claimed)


async def claim_due(tx: Transaction, ctx: EngagementContext) -> list[Claimed]:
    """Claim the pending messages that are due; each comes back with what to deliver, or
    None when the decision, taken again, now suppresses it (consent withdrawn, silenced)."""
    due = await due_messages(tx.session, tx.now, ctx.settings.delivery_batch_size)
    if not due:
        return []
    marketing = [m for m in due if m.purpose == Purpose.MARKETING.value]
    customers = await load_customers(tx.session, {m.customer_id for m in due}, lock=bool(marketing))
    counted: Counter[str] = Counter()
    if marketing:
        window_start = cap_window_start(tx.now, ctx.policy)
        known = {m.customer_id for m in marketing if m.customer_id in customers}
        counted.update(await marketing_in_window(tx.session, known, window_start))
    claimed: list[Claimed] = []
    for message in due:
        customer = customers.get(message.customer_id)
        # The message itself is pending: it does not count against its own place.
        own = _own_place(message, tx.now, ctx)
        in_window = counted[message.customer_id] - own
        state = None if customer is None else state_of(customer, in_window)
        outgoing = OutgoingMessage(Channel(message.channel), Purpose(message.purpose))
        decision = decide_with_contact(outgoing, state, contact_of(customer), tx.now, ctx.policy)
        if decision.reason is not None:
            counted[message.customer_id] -= own
            await settle(tx, message, Outcome.SUPPRESSED, decision.reason.value)
            claimed.append((message, None))
            continue
        claimed.append((message, claim(tx, ctx, message, customer)))
    await update_messages(tx.session, due, SETTLEMENT)
    return claimed


def _own_place(message: MessageRecord, now: datetime, ctx: EngagementContext) -> int:
    if not counts_against_cap(Purpose(message.purpose), message.outcome):
        return 0
    return marketing_sent_in_window([message.decided_at], now, ctx.policy)
