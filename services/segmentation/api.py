"""Segmentation routes: parse, call a query, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AfterValidator

from services.segmentation import queries
from services.segmentation.models import SegmentMember
from services.segmentation.schemas import (
    CustomerSegmentPublic,
    SegmentMemberPublic,
    SegmentMembersPage,
    SegmentPublic,
)
from services.segmentation.segments import SegmentTable
from shared.app import ServiceRuntime
from shared.auth import require
from shared.pagination import decode_cursor, encode_cursor

router = APIRouter(
    prefix="/v1", tags=["segments"], dependencies=[Depends(require("segmentation:read"))]
)

Limit = Annotated[int, Query(ge=1, le=500, description="page size, 1-500")]
Cursor = Annotated[
    str | None,
    Query(max_length=400, description="next_cursor of the previous page"),
    AfterValidator(decode_cursor),
]


def _runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def _table(request: Request) -> SegmentTable:
    return request.app.state.segment_table  # type: ignore[no-any-return]


@router.get("/customers/{customer_id}/segment")
async def get_customer_segment(customer_id: str, request: Request) -> CustomerSegmentPublic:
    async with _runtime(request).transaction() as session:
        member = await queries.get_member(session, customer_id)
    return CustomerSegmentPublic(
        customer_id=member.customer_id,
        segment=member.segment,
        recency_days=member.recency_days,
        frequency=member.frequency,
        monetary=member.monetary,
        since=member.segment_since,
        evaluated_at=member.evaluated_at,
    )


@router.get("/segments")
async def list_segments(request: Request) -> list[SegmentPublic]:
    async with _runtime(request).transaction() as session:
        sizes = await queries.segment_sizes(session, _table(request))
    return [
        SegmentPublic(
            name=size.rule.name,
            definition=size.rule.definition,
            conditions=[str(condition) for condition in size.rule.conditions],
            precedence=size.precedence,
            member_count=size.member_count,
        )
        for size in sizes
    ]


@router.get("/segments/{name}/members")
async def list_segment_members(
    name: str, request: Request, limit: Limit = 50, cursor: Cursor = None
) -> SegmentMembersPage:
    async with _runtime(request).transaction() as session:
        page = await queries.segment_members(
            session, _table(request), name, limit=limit, after=cursor
        )
    return SegmentMembersPage(
        segment=name,
        items=[_member(member) for member in page.members],
        next_cursor=encode_cursor(page.next_after) if page.next_after else None,
    )


def _member(member: SegmentMember) -> SegmentMemberPublic:
    return SegmentMemberPublic(
        customer_id=member.customer_id,
        since=member.segment_since,
        recency_days=member.recency_days,
        frequency=member.frequency,
        monetary=member.monetary,
    )
