"""Periodic work: the delivery task hands every due pending message to its adapter.

Each pass claims what is due in one short transaction (the decision taken again first, so a
customer silenced or unsubscribed meanwhile gets nothing), then sends each message with no
transaction open and settles it in another short one (`commands/delivery.py`).
"""

from __future__ import annotations

from datetime import datetime

from services.engagement import repository
from services.engagement.adapters.delivery import Delivery
from services.engagement.commands.decisions import evaluate, settle
from services.engagement.commands.delivery import claim, deliver_claimed
from services.engagement.context import EngagementContext
from services.engagement.rules.channels import Channel, Purpose
from services.engagement.rules.decision import Outcome, OutgoingMessage
from shared.app import PeriodicTask, TransactionOpener
from shared.transaction import Transaction

Claimed = tuple[str, Delivery | None]


def delivery_task(ctx: EngagementContext) -> PeriodicTask:
    async def run(begin: TransactionOpener, _now: datetime) -> None:
        await deliver_due(begin, ctx)

    return PeriodicTask("deliver_messages", ctx.settings.delivery_interval_s, run)


async def deliver_due(begin: TransactionOpener, ctx: EngagementContext) -> int:
    """One pass of the delivery worker; returns how many messages it claimed."""
    async with begin() as tx:
        claimed = await claim_due(tx, ctx)
    for message_id, delivery in claimed:
        if delivery is not None:
            await deliver_claimed(begin, ctx, message_id, delivery)
    return len(claimed)


async def claim_due(tx: Transaction, ctx: EngagementContext) -> list[Claimed]:
    """Claim the pending messages that are due; each comes back with what to deliver, or
    None when the decision, taken again, now suppresses it (consent withdrawn, silenced)."""
    due = await repository.due_messages(tx.session, tx.now, ctx.settings.delivery_batch_size)
    claimed: list[Claimed] = []
    for message in due:
        outgoing = OutgoingMessage(Channel(message.channel), Purpose(message.purpose))
        customer, reason = await evaluate(
            tx, ctx, message.customer_id, outgoing, exclude=message.message_id
        )
        if reason is not None:
            await settle(tx, message, Outcome.SUPPRESSED, reason.value)
            claimed.append((message.message_id, None))
            continue
        claimed.append((message.message_id, claim(tx, ctx, message, customer)))
    return claimed
