"""Periodic work: re-evaluate customers whose features drift with time alone (recency)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.evaluation import Segmenter
from services.segmentation.models import SegmentMember
from shared.app import PeriodicTask


async def sweep_due_customers(
    session: AsyncSession, now: datetime, *, segmenter: Segmenter, batch_size: int
) -> int:
    """Re-evaluate up to ``batch_size`` customers whose review time has come, most overdue
    first; returns how many were looked at. Each customer is due at least once a day, and when
    its recency next ticks, so one short transaction per run keeps up and never holds the
    database for long."""
    due = (
        await session.scalars(
            select(SegmentMember)
            .where(SegmentMember.review_at <= now)
            .order_by(SegmentMember.review_at, SegmentMember.customer_id)
            .limit(batch_size)
        )
    ).all()
    if due:
        await segmenter.reevaluate(session, due, now)
    return len(due)


def segment_sweep(segmenter: Segmenter, *, interval_s: float, batch_size: int) -> PeriodicTask:
    async def run(session: AsyncSession, now: datetime) -> None:
        await sweep_due_customers(session, now, segmenter=segmenter, batch_size=batch_size)

    return PeriodicTask(name="segment-sweep", interval_s=interval_s, run=run)
