"""Segmentation's rows: load and save them, and turn them into the rules' values and back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.models import (
    CustomerComplaint,
    CustomerOrder,
    Erasure,
    SegmentMember,
)
from services.segmentation.rules.facts import CustomerFacts, OrderFact, later_erasure
from services.segmentation.rules.reevaluation import MemberState, Reevaluation
from shared.money import to_fen, to_yuan


async def erased_at(session: AsyncSession, customer_id: str) -> datetime | None:
    erasure = await session.get(Erasure, customer_id)
    return erasure.erased_at if erasure is not None else None


async def member_to_update(session: AsyncSession, customer_id: str) -> SegmentMember:
    """The customer's row; a new one (added to the session once it has a segment) if unknown."""
    member = await session.get(SegmentMember, customer_id)
    return member if member is not None else SegmentMember(customer_id=customer_id, tags=[])


async def record_order_placed(
    session: AsyncSession, customer_id: str, order_id: str, *, placed_at: datetime, amount: Decimal
) -> None:
    """Facts are keyed by the order id, so the same order republished counts once."""
    order = await _order(session, customer_id, order_id)
    if order.placed_at is None:
        order.placed_at = placed_at
        order.amount_fen = to_fen(amount)


async def record_order_refunded(
    session: AsyncSession, customer_id: str, order_id: str, *, amount: Decimal
) -> None:
    """Several refunds against one order add up (partial refunds); a refund may arrive before
    its order, and waits for it."""
    order = await _order(session, customer_id, order_id)
    order.refunded_fen = (order.refunded_fen or 0) + to_fen(amount)


def record_tags(member: SegmentMember, tags: list[str], *, as_of: datetime) -> None:
    member.tags = tags
    member.tags_as_of = as_of


async def record_complaint(
    session: AsyncSession, customer_id: str, ticket_id: str, *, opened_at: datetime
) -> None:
    """Complaints are keyed by their ticket id, so a complaint republished counts once."""
    if await session.get(CustomerComplaint, (customer_id, ticket_id)) is None:
        session.add(
            CustomerComplaint(customer_id=customer_id, ticket_id=ticket_id, opened_at=opened_at)
        )


async def erase_customer(session: AsyncSession, customer_id: str, *, erased_at: datetime) -> None:
    """Delete everything held about the customer; keep only the id and the time of erasure."""
    for table in (CustomerOrder, CustomerComplaint, SegmentMember):
        await session.execute(delete(table).where(table.customer_id == customer_id))
    erasure = await session.get(Erasure, customer_id)
    if erasure is None:
        session.add(Erasure(customer_id=customer_id, erased_at=erased_at))
    else:
        erasure.erased_at = later_erasure(erasure.erased_at, erased_at)


async def due_members(session: AsyncSession, now: datetime, *, limit: int) -> list[SegmentMember]:
    """Up to ``limit`` customers whose review time has come, most overdue first."""
    query = (
        select(SegmentMember)
        .where(SegmentMember.review_at <= now)
        .order_by(SegmentMember.review_at, SegmentMember.customer_id)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def load_facts(
    session: AsyncSession, members: Sequence[SegmentMember]
) -> dict[str, CustomerFacts]:
    """Facts of several customers in two queries (orders not yet placed are left out)."""
    ids = [member.customer_id for member in members]
    orders: dict[str, list[OrderFact]] = defaultdict(list)
    for row in await session.scalars(
        select(CustomerOrder).where(
            CustomerOrder.customer_id.in_(ids), CustomerOrder.placed_at.is_not(None)
        )
    ):
        assert row.placed_at is not None and row.amount_fen is not None
        orders[row.customer_id].append(
            OrderFact(row.placed_at, to_yuan(row.amount_fen), to_yuan(row.refunded_fen))
        )
    complaints: dict[str, list[datetime]] = defaultdict(list)
    for customer_id, opened_at in await session.execute(
        select(CustomerComplaint.customer_id, CustomerComplaint.opened_at).where(
            CustomerComplaint.customer_id.in_(ids)
        )
    ):
        complaints[customer_id].append(opened_at)
    return {
        member.customer_id: CustomerFacts(
            orders=tuple(orders[member.customer_id]),
            tags=frozenset(member.tags or ()),
            complaints_opened_at=tuple(complaints[member.customer_id]),
        )
        for member in members
    }


def state_of(member: SegmentMember) -> MemberState:
    return MemberState(
        segment=member.segment,
        evaluated_at=member.evaluated_at,
        churn_alerted_peak=member.churn_alerted_peak,
    )


def save_reevaluation(session: AsyncSession, member: SegmentMember, outcome: Reevaluation) -> None:
    """Write the outcome onto the member's row (a new member is added to the session)."""
    evaluation = outcome.evaluation
    member.evaluated_at = outcome.as_of
    member.review_at = evaluation.review_at
    member.recency_days = evaluation.rfm.recency_days
    member.frequency = evaluation.rfm.frequency
    member.monetary_fen = to_fen(evaluation.rfm.monetary)
    if outcome.segment_changed:
        member.segment = evaluation.segment
        member.segment_since = outcome.as_of
    if outcome.churn is not None:
        member.churn_alerted_peak = outcome.churn.peak_month
    if member not in session:
        session.add(member)


async def _order(session: AsyncSession, customer_id: str, order_id: str) -> CustomerOrder:
    order = await session.get(CustomerOrder, (customer_id, order_id))
    if order is None:
        order = CustomerOrder(customer_id=customer_id, order_id=order_id, refunded_fen=0)
        session.add(order)
    return order
