"""API reads: a customer's segment, the segment table with sizes, and a segment's members.
Each reads the member rows the handlers and the sweep keep up to date."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.models import SegmentMember
from services.segmentation.rules.segments import SegmentTable
from services.segmentation.schemas import (
    CustomerSegmentPublic,
    SegmentMemberPublic,
    SegmentMembersPage,
    SegmentPublic,
)
from shared.errors import NotFound
from shared.money import to_yuan
from shared.pagination import next_cursor

MEMBERS = cast(Table, SegmentMember.__table__)


async def customer_segment(session: AsyncSession, customer_id: str) -> CustomerSegmentPublic:
    """The member's row as the last review left it: one primary-key read."""
    query = select(
        MEMBERS.c.segment,
        MEMBERS.c.recency_days,
        MEMBERS.c.frequency,
        MEMBERS.c.monetary_fen,
        MEMBERS.c.segment_since,
        MEMBERS.c.evaluated_at,
    ).where(MEMBERS.c.customer_id == customer_id)
    member = (await session.execute(query)).one_or_none()
    if member is None:
        raise NotFound("customer", customer_id)
    return CustomerSegmentPublic(
        customer_id=customer_id,
        segment=member.segment,
        recency_days=member.recency_days,
        frequency=member.frequency,
        monetary=to_yuan(member.monetary_fen),
        since=member.segment_since,
        evaluated_at=member.evaluated_at,
    )


async def segments_with_sizes(session: AsyncSession, table: SegmentTable) -> list[SegmentPublic]:
    """The table in precedence order (1 is evaluated first), each with its member count."""
    rows = await session.execute(
        select(MEMBERS.c.segment, func.count()).group_by(MEMBERS.c.segment)
    )
    counts: dict[str, int] = {segment: count for segment, count in rows}
    return [
        SegmentPublic(
            name=rule.name,
            definition=rule.definition,
            conditions=[str(condition) for condition in rule.conditions],
            precedence=precedence,
            member_count=counts.get(rule.name, 0),
        )
        for precedence, rule in enumerate(table.rules, start=1)
    ]


async def segment_members(
    session: AsyncSession, table: SegmentTable, name: str, *, limit: int, after: str | None
) -> SegmentMembersPage:
    """Members in customer-id order, ``limit`` at a time, starting after ``after``."""
    if name not in table.names:
        raise NotFound("segment", name)
    query = select(
        MEMBERS.c.customer_id,
        MEMBERS.c.segment_since,
        MEMBERS.c.recency_days,
        MEMBERS.c.frequency,
        MEMBERS.c.monetary_fen,
    ).where(MEMBERS.c.segment == name)
    if after is not None:
        query = query.where(MEMBERS.c.customer_id > after)
    rows = (await session.execute(query.order_by(MEMBERS.c.customer_id).limit(limit + 1))).all()
    return SegmentMembersPage(
        segment=name,
        items=[
            SegmentMemberPublic(
                customer_id=member.customer_id,
                since=member.segment_since,
                recency_days=member.recency_days,
                frequency=member.frequency,
                monetary=to_yuan(member.monetary_fen),
            )
            for member in rows[:limit]
        ],
        next_cursor=next_cursor([member.customer_id for member in rows], limit),
    )
