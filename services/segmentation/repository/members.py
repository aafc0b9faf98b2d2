"""Member rows: load a run's members in one query, save them in one statement, and turn a row
into the rules' values (``MemberState``, ``CustomerFigures``) and back. Core statements only."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Row, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.models import SegmentMember
from services.segmentation.rules.figures import CustomerFigures
from services.segmentation.rules.reevaluation import MemberState, Reevaluation
from shared import bulk
from shared.money import to_fen

MEMBERS = cast(Table, SegmentMember.__table__)


@dataclass
class Member:
    """A customer in hand: the last decision, the figures, and what the handlers change."""

    customer_id: str
    state: MemberState = field(default_factory=MemberState)
    figures: CustomerFigures = field(default_factory=CustomerFigures)
    segment_since: datetime | None = None
    tags_as_of: datetime | None = None


def locks_rows(session: AsyncSession) -> bool:
    """PostgreSQL locks the rows a transaction will rewrite; SQLite has one writer at a time."""
    return session.get_bind().dialect.name == "postgresql"


async def load_members(
    session: AsyncSession, customer_ids: Collection[str], *, window: timedelta
) -> dict[str, Member]:
    """The members among ``customer_ids`` (locked until the commit), in one query; a customer
    not yet known gets a new ``Member``."""
    found: dict[str, Member] = {}
    if customer_ids:
        query = select(*_IN_HAND).where(MEMBERS.c.customer_id.in_(sorted(customer_ids)))
        if locks_rows(session):
            query = query.order_by(MEMBERS.c.customer_id).with_for_update()
        for row in await session.execute(query):
            found[row.customer_id] = member_of(row, window)
    return {cid: found.get(cid) or Member(cid) for cid in customer_ids}


_IN_HAND = [
    MEMBERS.c[name]
    for name in (
        "customer_id",
        "segment",
        "segment_since",
        "evaluated_at",
        "churn_alerted_peak",
        "tags",
        "tags_as_of",
        "last_order_at",
        "recent_orders",
        "recent_complaints",
        "monthly_net",
    )
]
"""What ``member_of`` reads: the decision and the figures, not the values shown."""


def member_of(row: Row[Any], window: timedelta) -> Member:
    return Member(
        customer_id=row.customer_id,
        state=MemberState(
            segment=row.segment,
            evaluated_at=row.evaluated_at,
            churn_alerted_peak=row.churn_alerted_peak,
        ),
        figures=CustomerFigures(
            recent_orders=tuple(
                (datetime.fromisoformat(at), fen) for at, fen in row.recent_orders or ()
            ),
            last_order_at=row.last_order_at,
            monthly_net=tuple(
                sorted((_month(month), fen) for month, fen in (row.monthly_net or {}).items())
            ),
            complaints=tuple(datetime.fromisoformat(at) for at in row.recent_complaints or ()),
            tags=frozenset(row.tags or ()),
            complete_since=row.evaluated_at - window,
        ),
        segment_since=row.segment_since,
        tags_as_of=row.tags_as_of,
    )


def member_row(member: Member, outcome: Reevaluation) -> dict[str, Any]:
    """The member's row after ``outcome``: the decision, the figures it was made on and the
    figures kept."""
    evaluation, figures = outcome.evaluation, outcome.figures
    rfm = evaluation.rfm
    churn_peak = outcome.churn.peak_month if outcome.churn is not None else None
    return {
        "customer_id": member.customer_id,
        "segment": evaluation.segment,
        "segment_since": outcome.as_of if outcome.segment_changed else member.segment_since,
        "recency_days": rfm.recency_days,
        "frequency": rfm.frequency,
        "monetary_fen": to_fen(rfm.monetary),
        "evaluated_at": outcome.as_of,
        "review_at": evaluation.review_at,
        "settled_until": evaluation.settled_until,
        "tags": sorted(figures.tags),
        "tags_as_of": member.tags_as_of,
        "churn_alerted_peak": churn_peak or member.state.churn_alerted_peak,
        "last_order_at": figures.last_order_at,
        "recent_orders": [[_iso(at), fen] for at, fen in figures.recent_orders],
        "recent_complaints": [_iso(at) for at in figures.complaints],
        "monthly_net": {f"{m.year:04d}-{m.month:02d}": fen for m, fen in figures.monthly_net},
    }


def held_row(member: Member, review_at: datetime) -> dict[str, Any]:
    """The member's row with new tags and no new decision: due for a full review at
    ``review_at`` (which re-evaluates and sets the next review and settled time)."""
    return {
        "customer_id": member.customer_id,
        "tags": sorted(member.figures.tags),
        "tags_as_of": member.tags_as_of,
        "review_at": review_at,
        "settled_until": review_at,
    }


async def save_members(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or rewrite the members' rows, one statement."""
    await bulk.upsert(session, MEMBERS, rows, key=("customer_id",))


async def update_members(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Rewrite members known to exist (a member erased meanwhile stays erased), one
    statement. Every row names the same columns."""
    await bulk.update_by_key(session, MEMBERS, rows, key=("customer_id",))


@cache
def _month(text: str) -> date:
    """``"2026-06"`` as the first day of the month (a handful of months, parsed once)."""
    return date(int(text[:4]), int(text[5:7]), 1)


def _iso(at: datetime) -> str:
    return (at if at.tzinfo is UTC else at.astimezone(UTC)).isoformat()
