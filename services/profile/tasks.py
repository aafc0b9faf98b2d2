"""Periodic work: re-evaluate the tags that time alone changes (windows, birthdays, silences)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import store
from services.profile.profiling import Profiler
from shared.app import PeriodicTask


async def sweep_due_customers(
    session: AsyncSession, now: datetime, *, profiler: Profiler, batch_size: int
) -> int:
    """Re-evaluate up to ``batch_size`` customers whose review time has come, most overdue
    first; returns how many were looked at. Each evaluation sets the next review time, so a
    customer comes back exactly when a window boundary, a silence end or a new month could
    change a tag."""
    due = await store.due_for_review(session, now, batch_size)
    for customer_id in due:
        customer = await store.lock_customer(session, customer_id)
        if customer is not None:
            await profiler.record(session, customer, now)
    return len(due)


def tag_sweep(profiler: Profiler, *, interval_s: float, batch_size: int) -> PeriodicTask:
    async def run(session: AsyncSession, now: datetime) -> None:
        await sweep_due_customers(session, now, profiler=profiler, batch_size=batch_size)

    return PeriodicTask(name="tag-sweep", interval_s=interval_s, run=run)
