"""The sweep's reads and writes: due members by keyset on ``(review_at, customer_id)``, and the
recency refresh of those whose segment is settled, one statement per chunk. On PostgreSQL
the refresh is computed in that statement (``refresh_settled``); elsewhere the sweep computes
it with the rule (``rules.reevaluation.refresh_recency``) and writes it back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import TextClause, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.repository.members import MEMBERS
from services.segmentation.rules.reevaluation import RecencyRefresh
from shared.bulk import on_postgresql, update_by_key

ReviewKey = tuple[datetime, str]
"""(review_at, customer_id): where a sweep is in the queue of due members."""


@dataclass(frozen=True)
class DueMember:
    customer_id: str
    review_at: datetime
    evaluated_at: datetime
    settled_until: datetime | None
    last_order_at: datetime | None


async def due_members(
    session: AsyncSession, now: datetime, *, limit: int, after: ReviewKey | None = None
) -> list[DueMember]:
    """Up to ``limit`` members due by ``now``, most overdue first, after ``after`` (SQLite:
    one writer at a time, no row is held by anyone else)."""
    due = MEMBERS.c.review_at <= now
    if after is not None:
        due = due & (tuple_(MEMBERS.c.review_at, MEMBERS.c.customer_id) > tuple_(*after))
    query = (
        select(
            MEMBERS.c.customer_id,
            MEMBERS.c.review_at,
            MEMBERS.c.evaluated_at,
            MEMBERS.c.settled_until,
            MEMBERS.c.last_order_at,
        )
        .where(due)
        .order_by(MEMBERS.c.review_at, MEMBERS.c.customer_id)
        .limit(limit)
    )
    return [DueMember(*row) for row in await session.execute(query)]


async def save_refreshes(
    session: AsyncSession, refreshes: Sequence[tuple[str, RecencyRefresh]]
) -> None:
    """Move recency, the evaluation moment and the next review of settled members."""
    rows = [
        {
            "customer_id": customer_id,
            "recency_days": refresh.recency_days,
            "evaluated_at": refresh.as_of,
            "review_at": refresh.review_at,
        }
        for customer_id, refresh in refreshes
    ]
    await update_by_key(session, MEMBERS, rows, key=("customer_id",))


@dataclass(frozen=True)
class ReviewedChunk:
    looked_at: int
    last: ReviewKey | None
    unsettled: list[str]
    """Due members whose segment is not settled (locked): to re-evaluate in full."""


def refreshes_in_sql(session: AsyncSession) -> bool:
    return on_postgresql(session)


async def refresh_settled(
    session: AsyncSession, now: datetime, *, limit: int, after: ReviewKey | None
) -> ReviewedChunk:
    """PostgreSQL: take up to ``limit`` due members (as ``due_members``) and, in the same
    statement, refresh those whose segment is settled exactly as ``refresh_recency`` does:
    evaluated at the later of now and the last evaluation, recency in whole 24-hour days since
    the last order, next review at the next recency tick (a day on for a customer without
    orders), never later than ``settled_until``. The chunk's rows are locked; rows a consumer
    holds are skipped (the next sweep finds them if the consumer left them due)."""
    parameters: dict[str, Any] = {"now": now, "limit": limit}
    if after is not None:
        parameters |= {"after_at": after[0], "after_id": after[1]}
    rows = (await session.execute(_refresh_statement(after is not None), parameters)).all()
    last = max(((at, customer_id) for customer_id, at, _ in rows), default=None)
    unsettled = [customer_id for customer_id, _, settled in rows if not settled]
    return ReviewedChunk(looked_at=len(rows), last=last, unsettled=unsettled)


@cache
def _refresh_statement(after: bool) -> TextClause:
    keyset = "AND (review_at, customer_id) > (:after_at, :after_id)" if after else ""
    now = "CAST(:now AS TIMESTAMPTZ)"
    as_of = f"GREATEST({now}, evaluated_at)"
    recency = f"FLOOR(EXTRACT(EPOCH FROM {as_of} - last_order_at) / 86400)::INTEGER"
    # The settled rows are rewritten by their row ids (a TID scan): the chunk is already in
    # hand and locked, so the update neither joins nor looks anything up again.
    return text(f"""
WITH due AS (
    SELECT ctid AS row_id, customer_id, review_at,
           settled_until IS NULL OR settled_until > {as_of} AS settled
    FROM segment_members
    WHERE review_at <= {now} {keyset}
    ORDER BY review_at, customer_id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
),
refresh AS (
    UPDATE segment_members
    SET evaluated_at = {as_of},
        recency_days = {recency},
        review_at = LEAST(
            settled_until,
            CASE WHEN last_order_at IS NULL THEN {as_of} + INTERVAL '24 hours'
                 ELSE last_order_at + ({recency} + 1) * INTERVAL '24 hours' END
        )
    WHERE ctid = ANY(ARRAY(SELECT row_id FROM due WHERE settled))
)
SELECT customer_id, review_at, settled FROM due
""")
