"""Segmentation's event handlers: record the fact, then re-evaluate the customer's segment.

Every handler runs in the consumer's transaction, after the inbox claim. Facts are keyed by
their own ids too (order id, ticket id), so the same order republished under a new event id
still counts once. Events about an erased customer from before the erasure are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.segmentation import repository
from services.segmentation.context import SegmentationContext
from services.segmentation.models import SegmentMember
from services.segmentation.rules.churn import CHURN_REASON
from services.segmentation.rules.facts import erased_by, tags_to_keep, takes_tag_snapshot
from services.segmentation.rules.reevaluation import Reevaluation, reevaluate
from shared.events.catalogue import (
    ChurnRiskDetected,
    ComplaintOpened,
    CustomerErased,
    OrderPlaced,
    OrderRefunded,
    ProfileTagged,
    SegmentChanged,
)
from shared.events.envelope import TypedEvent
from shared.subscriptions import Subscriptions
from shared.transaction import Transaction

subscriptions = Subscriptions[SegmentationContext](
    "segmentation", publishes=(SegmentChanged, ChurnRiskDetected)
)


@subscriptions.on(OrderPlaced)
async def on_order_placed(
    event: TypedEvent[OrderPlaced], tx: Transaction, ctx: SegmentationContext
) -> None:
    if (member := await _member_unless_erased(event, tx)) is None:
        return
    await repository.record_order_placed(
        tx.session,
        member.customer_id,
        event.data.order_id,
        placed_at=event.time,
        amount=event.data.amount,
    )
    await reevaluate_members(tx, ctx, [member], event_time=event.time)


@subscriptions.on(OrderRefunded)
async def on_order_refunded(
    event: TypedEvent[OrderRefunded], tx: Transaction, ctx: SegmentationContext
) -> None:
    if (member := await _member_unless_erased(event, tx)) is None:
        return
    await repository.record_order_refunded(
        tx.session, member.customer_id, event.data.order_id, amount=event.data.amount
    )
    await reevaluate_members(tx, ctx, [member], event_time=event.time)


@subscriptions.on(ProfileTagged)
async def on_profile_tagged(
    event: TypedEvent[ProfileTagged], tx: Transaction, ctx: SegmentationContext
) -> None:
    if (member := await _member_unless_erased(event, tx)) is None:
        return
    if takes_tag_snapshot(member.tags_as_of, event.time):
        tags = tags_to_keep(event.data.tags, event.data.behaviour_tags)
        repository.record_tags(member, tags, as_of=event.time)
    await reevaluate_members(tx, ctx, [member], event_time=event.time)


@subscriptions.on(ComplaintOpened)
async def on_complaint_opened(
    event: TypedEvent[ComplaintOpened], tx: Transaction, ctx: SegmentationContext
) -> None:
    if (member := await _member_unless_erased(event, tx)) is None:
        return
    await repository.record_complaint(
        tx.session, member.customer_id, event.data.ticket_id, opened_at=event.data.opened_at
    )
    await reevaluate_members(tx, ctx, [member], event_time=event.time)


@subscriptions.on(CustomerErased)
async def on_customer_erased(
    event: TypedEvent[CustomerErased], tx: Transaction, ctx: SegmentationContext
) -> None:
    await repository.erase_customer(
        tx.session, event.data.customer_id, erased_at=event.data.erased_at
    )


async def reevaluate_members(
    tx: Transaction,
    ctx: SegmentationContext,
    members: Sequence[SegmentMember],
    *,
    event_time: datetime | None = None,
) -> int:
    """Re-evaluate ``members`` (never earlier than ``tx.now``, the event's time or their last
    evaluation), save them and publish what changed; returns how many changed segment."""
    facts = await repository.load_facts(tx.session, members)
    changed = 0
    for member in members:
        outcome = reevaluate(
            repository.state_of(member),
            facts[member.customer_id],
            ctx.policy,
            now=tx.now,
            event_time=event_time,
        )
        repository.save_reevaluation(tx.session, member, outcome)
        await _publish(tx, member.customer_id, outcome)
        changed += outcome.segment_changed
    return changed


async def _publish(tx: Transaction, customer_id: str, outcome: Reevaluation) -> None:
    if outcome.segment_changed:
        changed = SegmentChanged(
            customer_id=customer_id,
            old_segment=outcome.old_segment,
            new_segment=outcome.evaluation.segment,
            rfm=outcome.evaluation.rfm.as_event_data(),
        )
        await tx.outbox.publish(changed, time=outcome.as_of)
    if outcome.churn is not None:
        alert = ChurnRiskDetected(
            customer_id=customer_id,
            reason=CHURN_REASON,
            monthly_spend=list(outcome.churn.spend),
            months=list(outcome.churn.months),
        )
        await tx.outbox.publish(alert, time=outcome.as_of)


async def _member_unless_erased(event: TypedEvent[Any], tx: Transaction) -> SegmentMember | None:
    customer_id = event.data.customer_id
    if erased_by(await repository.erased_at(tx.session, customer_id), event.time):
        return None
    return await repository.member_to_update(tx.session, customer_id)
