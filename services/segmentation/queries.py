"""Read side of the API: a customer's segment, segment sizes, and a segment's members."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.models import SegmentMember
from services.segmentation.segments import SegmentRule, SegmentTable
from shared.errors import NotFound


@dataclass(frozen=True)
class SegmentSize:
    rule: SegmentRule
    precedence: int
    member_count: int


@dataclass(frozen=True)
class MemberPage:
    members: Sequence[SegmentMember]
    next_after: str | None


async def get_member(session: AsyncSession, customer_id: str) -> SegmentMember:
    member = await session.get(SegmentMember, customer_id)
    if member is None:
        raise NotFound("customer", customer_id)
    return member


async def segment_sizes(session: AsyncSession, table: SegmentTable) -> list[SegmentSize]:
    rows = await session.execute(
        select(SegmentMember.segment, func.count()).group_by(SegmentMember.segment)
    )
    counts: dict[str, int] = {segment: count for segment, count in rows}
    return [
        SegmentSize(rule, precedence, counts.get(rule.name, 0))
        for precedence, rule in enumerate(table.rules, start=1)
    ]


async def segment_members(
    session: AsyncSession, table: SegmentTable, name: str, *, limit: int, after: str | None
) -> MemberPage:
    """Members in customer-id order, ``limit`` at a time, starting after ``after``."""
    if name not in table.names:
        raise NotFound("segment", name)
    query = select(SegmentMember).where(SegmentMember.segment == name)
    if after is not None:
        query = query.where(SegmentMember.customer_id > after)
    rows = (await session.scalars(query.order_by(SegmentMember.customer_id).limit(limit + 1))).all()
    page = rows[:limit]
    next_after = page[-1].customer_id if len(rows) > limit else None
    return MemberPage(page, next_after)
