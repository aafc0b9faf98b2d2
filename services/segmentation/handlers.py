"""Segmentation's event handlers: record the facts of a run, then re-evaluate each customer of
the run once.

Every handler runs in the consumer's transaction, after the inbox claim, on a run of one
partition's events of its type (a failed run is redone one event at a time). The run's
members are loaded in one query, orders and complaints are recorded in one statement each,
the members are written back in one statement. Facts are keyed by their own ids too (order
id, ticket id), so the same order republished under a new event id still counts once.
Events about an erased customer from before the erasure are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from services.segmentation.context import SegmentationContext
from services.segmentation.repository import facts
from services.segmentation.repository.facts import OrderKey, OrderRow
from services.segmentation.repository.members import (
    Member,
    held_row,
    load_members,
    member_row,
    save_members,
    update_members,
)
from services.segmentation.rules.churn import CHURN_REASON
from services.segmentation.rules.facts import (
    OrderFact,
    erased_by,
    snapshot_is_behind,
    tags_to_keep,
    takes_tag_snapshot,
)
from services.segmentation.rules.figures import (
    with_complaint,
    with_last_order,
    with_order,
    with_refund,
    with_tags,
)
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
from shared.money import to_fen, to_yuan
from shared.subscriptions import Subscriptions
from shared.transaction import Transaction

subscriptions = Subscriptions[SegmentationContext](
    "segmentation", publishes=(SegmentChanged, ChurnRiskDetected)
)

Events = Sequence[TypedEvent[Any]]


@subscriptions.on_batch(OrderPlaced)
async def on_orders_placed(
    events: Sequence[TypedEvent[OrderPlaced]], tx: Transaction, ctx: SegmentationContext
) -> None:
    live, members = await _members_of(events, tx, ctx)
    first: dict[OrderKey, TypedEvent[OrderPlaced]] = {}
    for event in live:
        first.setdefault((event.data.customer_id, event.data.order_id), event)
    landed = await facts.land_orders(
        tx.session,
        [
            OrderRow(customer_id, order_id, event.time, to_fen(event.data.amount))
            for (customer_id, order_id), event in first.items()
        ],
    )
    timezone = ctx.policy.churn.timezone
    for key, event in first.items():
        if (refunded_before := landed.get(key)) is not None:
            member = members[key[0]]
            order = OrderFact(event.time, event.data.amount, to_yuan(refunded_before))
            member.figures = with_order(member.figures, order, timezone)
    await _decide_all(live, members, tx, ctx)


@subscriptions.on_batch(OrderRefunded)
async def on_orders_refunded(
    events: Sequence[TypedEvent[OrderRefunded]], tx: Transaction, ctx: SegmentationContext
) -> None:
    """Refunds add up (partial refunds); one that arrives before its order waits for it."""
    live, members = await _members_of(events, tx, ctx)
    keys = [(event.data.customer_id, event.data.order_id) for event in live]
    orders = await facts.orders_by_key(tx.session, set(keys))
    timezone = ctx.policy.churn.timezone
    last_order_lost: set[str] = set()
    for (customer_id, order_id), event in zip(keys, live, strict=True):
        order = orders.setdefault((customer_id, order_id), OrderRow(customer_id, order_id))
        before = _fact(order)
        order.refunded_fen += to_fen(event.data.amount)
        after = _fact(order)
        if before is None or after is None:
            continue
        member = members[customer_id]
        outcome = with_refund(member.figures, before, after, timezone)
        member.figures = outcome.figures
        if outcome.last_order_unknown:
            last_order_lost.add(customer_id)
    await facts.save_refunds(tx.session, list(orders.values()))
    if last_order_lost:
        latest = await facts.latest_kept_orders(tx.session, last_order_lost)
        for customer_id in last_order_lost:
            member = members[customer_id]
            member.figures = with_last_order(member.figures, latest.get(customer_id))
    await _decide_all(live, members, tx, ctx)


@subscriptions.on_batch(ProfileTagged)
async def on_profiles_tagged(
    events: Sequence[TypedEvent[ProfileTagged]], tx: Transaction, ctx: SegmentationContext
) -> None:
    live, members = await _members_of(events, tx, ctx)
    for event in live:
        member = members[event.data.customer_id]
        if takes_tag_snapshot(member.tags_as_of, event.time):
            tags = tags_to_keep(event.data.tags, event.data.behaviour_tags)
            member.figures = with_tags(member.figures, tags)
            member.tags_as_of = event.time
    behind = {
        customer_id
        for customer_id in {event.data.customer_id for event in live}
        if snapshot_is_behind(
            members[customer_id].tags_as_of, members[customer_id].figures.newest_order_at
        )
    }
    await _decide_all([e for e in live if e.data.customer_id not in behind], members, tx, ctx)
    if behind:
        review_at = tx.now + ctx.tag_settle
        await update_members(tx.session, [held_row(members[c], review_at) for c in behind])


@subscriptions.on_batch(ComplaintOpened)
async def on_complaints_opened(
    events: Sequence[TypedEvent[ComplaintOpened]], tx: Transaction, ctx: SegmentationContext
) -> None:
    live, members = await _members_of(events, tx, ctx)
    first: dict[tuple[str, str], datetime] = {}
    for event in live:
        first.setdefault((event.data.customer_id, event.data.ticket_id), event.data.opened_at)
    new = await facts.record_complaints(
        tx.session, [(customer, ticket, at) for (customer, ticket), at in first.items()]
    )
    for key, opened_at in first.items():
        if key in new:
            member = members[key[0]]
            member.figures = with_complaint(member.figures, opened_at)
    await _decide_all(live, members, tx, ctx)


@subscriptions.on(CustomerErased)
async def on_customer_erased(
    event: TypedEvent[CustomerErased], tx: Transaction, ctx: SegmentationContext
) -> None:
    await facts.erase_customer(tx.session, event.data.customer_id, erased_at=event.data.erased_at)


async def decide(
    member: Member, tx: Transaction, ctx: SegmentationContext, *, event_time: datetime | None
) -> dict[str, Any]:
    """Re-evaluate ``member`` (never earlier than ``tx.now``, the event's time or the last
    evaluation), publish what changed; returns the member's new row."""
    outcome = reevaluate(
        member.state, member.figures, ctx.policy, now=tx.now, event_time=event_time
    )
    await _publish(tx, member.customer_id, outcome)
    return member_row(member, outcome)


async def _members_of(
    events: Events, tx: Transaction, ctx: SegmentationContext
) -> tuple[Events, dict[str, Member]]:
    """The run's events about customers not erased since, and those customers in hand."""
    erased = await facts.erasures(tx.session, {event.data.customer_id for event in events})
    live = [e for e in events if not erased_by(erased.get(e.data.customer_id), e.time)]
    customers = {event.data.customer_id for event in live}
    return live, await load_members(tx.session, customers, window=ctx.policy.window)


async def _decide_all(
    events: Events, members: dict[str, Member], tx: Transaction, ctx: SegmentationContext
) -> None:
    """One evaluation per customer of the run, at the latest of its events' times."""
    latest: dict[str, datetime] = {}
    for event in events:
        customer_id = event.data.customer_id
        latest[customer_id] = max(latest.get(customer_id, event.time), event.time)
    rows = [
        await decide(members[customer_id], tx, ctx, event_time=event_time)
        for customer_id, event_time in latest.items()
    ]
    await save_members(tx.session, rows)


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


def _fact(order: OrderRow) -> OrderFact | None:
    """The order as the rules see it; None until it has been placed."""
    if order.placed_at is None or order.amount_fen is None:
        return None
    return OrderFact(order.placed_at, to_yuan(order.amount_fen), to_yuan(order.refunded_fen))
