"""Periodic work: re-evaluate customers whose features drift with time alone (recency)."""

from __future__ import annotations

from datetime import datetime

from services.segmentation import repository
from services.segmentation.context import SegmentationContext
from services.segmentation.handlers import reevaluate_members
from shared.app import PeriodicTask, TransactionOpener
from shared.transaction import Transaction

SEGMENT_SWEEP = "segment-sweep"


async def sweep_due_customers(tx: Transaction, ctx: SegmentationContext, *, batch_size: int) -> int:
    """Re-evaluate up to ``batch_size`` customers whose review time has come by ``tx.now``,
    most overdue first; returns how many were looked at. Each customer is due at least once a
    day, and when its recency next ticks."""
    due = await repository.due_members(tx.session, tx.now, limit=batch_size)
    if due:
        await reevaluate_members(tx, ctx, due)
    return len(due)


def segment_sweep(ctx: SegmentationContext, *, interval_s: float) -> PeriodicTask:
    """One short transaction per set of ``ctx.sweep_batch_size`` due customers, until a set
    comes back short: the sweep keeps up and never holds the database for long. A customer
    re-evaluated at ``now`` is next due after ``now``, so the sets always run out."""

    async def run(begin: TransactionOpener, now: datetime) -> None:
        while True:
            async with begin() as tx:
                looked_at = await sweep_due_customers(tx, ctx, batch_size=ctx.sweep_batch_size)
            if looked_at < ctx.sweep_batch_size:
                return

    return PeriodicTask(name=SEGMENT_SWEEP, interval_s=interval_s, run=run)
