"""Periodic work: re-evaluate the tags that time alone changes (windows, birthdays, silences)."""

from __future__ import annotations

from datetime import datetime

from services.profile.commands.profiling import reassess_and_save
from services.profile.context import ProfileContext
from services.profile.repository import customers
from shared.app import PeriodicTask, TransactionOpener
from shared.transaction import Transaction


async def sweep_due_customers(tx: Transaction, ctx: ProfileContext, batch_size: int) -> int:
    """Re-evaluate up to ``batch_size`` customers whose review time has come by ``tx.now``,
    most overdue first, as a set: read in one statement, written in one per table; returns
    how many were due. Each evaluation sets the next review time, so a customer comes back
    exactly when a window boundary, a silence end or a new month could change a tag."""
    due = await customers.lock_due_for_review(tx, tx.now, batch_size)
    await reassess_and_save(tx, ctx, [(state, state, tx.now) for state in due])
    return len(due)


def tag_sweep(ctx: ProfileContext, *, interval_s: float, batch_size: int) -> PeriodicTask:
    """One transaction per ``batch_size`` customers, back to back until none is due."""

    async def run(begin: TransactionOpener, now: datetime) -> None:
        while True:
            async with begin() as tx:
                due = await sweep_due_customers(tx, ctx, batch_size)
            if due < batch_size:
                return

    return PeriodicTask(name="tag-sweep", interval_s=interval_s, run=run)
