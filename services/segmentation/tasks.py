"""Periodic work: re-evaluate customers whose features drift with time alone (recency)."""

from __future__ import annotations

from datetime import datetime

from services.segmentation.context import SegmentationContext
from services.segmentation.handlers import decide
from services.segmentation.repository import reviews
from services.segmentation.repository.members import load_members, update_members
from services.segmentation.repository.reviews import ReviewedChunk, ReviewKey
from services.segmentation.rules.reevaluation import RecencyRefresh, refresh_recency
from shared.app import PeriodicTask, TransactionOpener
from shared.transaction import Transaction

SEGMENT_SWEEP = "segment-sweep"


async def sweep_due_customers(
    tx: Transaction,
    ctx: SegmentationContext,
    *,
    batch_size: int,
    after: ReviewKey | None = None,
) -> ReviewedChunk:
    """Review up to ``batch_size`` customers whose review time has come by ``tx.now``, most
    overdue first (after ``after``). A customer whose segment is settled only has recency
    moved, in one statement for the chunk; the others are re-evaluated from their figures,
    written in one statement, with one event per change."""
    if reviews.refreshes_in_sql(tx.session):
        chunk = await reviews.refresh_settled(tx.session, tx.now, limit=batch_size, after=after)
    else:
        chunk = await _refresh_settled(tx, batch_size=batch_size, after=after)
    if chunk.unsettled:
        members = await load_members(tx.session, chunk.unsettled, window=ctx.policy.window)
        rows = [await decide(member, tx, ctx, event_time=None) for member in members.values()]
        await update_members(tx.session, rows)
    return chunk


async def _refresh_settled(
    tx: Transaction, *, batch_size: int, after: ReviewKey | None
) -> ReviewedChunk:
    due = await reviews.due_members(tx.session, tx.now, limit=batch_size, after=after)
    refreshes: list[tuple[str, RecencyRefresh]] = []
    unsettled: list[str] = []
    for member in due:
        refresh = refresh_recency(
            last_order_at=member.last_order_at,
            last_evaluated=member.evaluated_at,
            settled_until=member.settled_until,
            now=tx.now,
        )
        if refresh is None:
            unsettled.append(member.customer_id)
        else:
            refreshes.append((member.customer_id, refresh))
    await reviews.save_refreshes(tx.session, refreshes)
    last = (due[-1].review_at, due[-1].customer_id) if due else None
    return ReviewedChunk(looked_at=len(due), last=last, unsettled=unsettled)


def segment_sweep(ctx: SegmentationContext, *, interval_s: float) -> PeriodicTask:
    """One transaction per chunk of ``ctx.sweep_batch_size`` due customers, back to back by
    keyset until a chunk comes back short: each chunk holds its rows briefly, and a customer
    reviewed at ``now`` is next due after ``now``, so the chunks always run out."""

    async def run(begin: TransactionOpener, now: datetime) -> None:
        after: ReviewKey | None = None
        while True:
            async with begin() as tx:
                chunk = await sweep_due_customers(
                    tx, ctx, batch_size=ctx.sweep_batch_size, after=after
                )
            if chunk.looked_at < ctx.sweep_batch_size:
                return
            after = chunk.last

    return PeriodicTask(name=SEGMENT_SWEEP, interval_s=interval_s, run=run)
