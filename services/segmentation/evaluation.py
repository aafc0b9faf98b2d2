"""Re-evaluating customers: load their facts, apply the rules, save, publish what changed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.churn import CHURN_REASON, FallingStreak, churn_risk
from services.segmentation.facts import CustomerFacts, OrderFact
from services.segmentation.models import (
    CustomerComplaint,
    CustomerOrder,
    SegmentMember,
    from_fen,
    to_fen,
)
from services.segmentation.rules import Evaluation, SegmentationPolicy, evaluate
from shared.events.catalogue import ChurnRiskDetected, SegmentChanged
from shared.events.envelope import new_event
from shared.outbox import add_event


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
            OrderFact(row.placed_at, from_fen(row.amount_fen), from_fen(row.refunded_fen))
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


@dataclass(frozen=True)
class Segmenter:
    """Applies the rules to stored customers and writes the resulting events to the outbox."""

    policy: SegmentationPolicy
    source: str

    async def reevaluate(
        self, session: AsyncSession, members: Sequence[SegmentMember], now: datetime
    ) -> int:
        """Re-evaluate ``members`` at ``now`` (never earlier than each was last evaluated).
        A member not yet in the session is added. Returns how many changed segment."""
        facts = await load_facts(session, members)
        changed = 0
        for member in members:
            changed += await self._apply(session, member, facts[member.customer_id], now)
        return changed

    async def _apply(
        self, session: AsyncSession, member: SegmentMember, facts: CustomerFacts, now: datetime
    ) -> bool:
        as_of = max(now, member.evaluated_at) if member.evaluated_at else now
        evaluation = evaluate(facts, as_of, self.policy)
        old_segment = member.segment
        member.evaluated_at = as_of
        member.review_at = evaluation.review_at
        member.recency_days = evaluation.rfm.recency_days
        member.frequency = evaluation.rfm.frequency
        member.monetary_fen = to_fen(evaluation.rfm.monetary)
        if member not in session:
            session.add(member)
        if old_segment != evaluation.segment:
            member.segment = evaluation.segment
            member.segment_since = as_of
            await self._publish_segment_changed(session, member, old_segment, evaluation, as_of)
        streak = churn_risk(
            facts.orders,
            monetary=evaluation.rfm.monetary,
            now=as_of,
            alerted_peak=member.churn_alerted_peak,
            policy=self.policy.churn,
        )
        if streak is not None:
            member.churn_alerted_peak = streak.peak_month
            await self._publish_churn_risk(session, member.customer_id, streak, as_of)
        return old_segment != evaluation.segment

    async def _publish_segment_changed(
        self,
        session: AsyncSession,
        member: SegmentMember,
        old_segment: str | None,
        evaluation: Evaluation,
        at: datetime,
    ) -> None:
        data = SegmentChanged(
            customer_id=member.customer_id,
            old_segment=old_segment,
            new_segment=evaluation.segment,
            rfm=evaluation.rfm.as_event_data(),
        )
        event = new_event(
            "segment.changed", source=self.source, time=at, subject=member.customer_id, data=data
        )
        # new_event leaves out None values, but old_segment is required (null for a customer's
        # first segment): keep it on the wire so consumers can validate the event.
        event = event.model_copy(update={"data": data.model_dump(mode="json")})
        await add_event(session, event, now=at)

    async def _publish_churn_risk(
        self, session: AsyncSession, customer_id: str, streak: FallingStreak, at: datetime
    ) -> None:
        data = ChurnRiskDetected(
            customer_id=customer_id,
            reason=CHURN_REASON,
            monthly_spend=list(streak.spend),
            months=list(streak.months),
        )
        event = new_event(
            "churn_risk.detected", source=self.source, time=at, subject=customer_id, data=data
        )
        await add_event(session, event, now=at)
