"""Segmentation routes: parse, call a query, shape the response."""

from __future__ import annotations

from fastapi import APIRouter

from services.segmentation import queries
from services.segmentation.context import SegmentationDep
from services.segmentation.schemas import (
    CustomerSegmentPublic,
    SegmentMembersPage,
    SegmentPublic,
)
from shared.app import RuntimeDep
from shared.auth import scope_dependencies
from shared.pagination import CursorQuery, LimitQuery

READ, _WRITE = scope_dependencies("segmentation")

router = APIRouter(prefix="/v1", tags=["segments"], dependencies=[READ])


@router.get("/customers/{customer_id}/segment")
async def get_customer_segment(customer_id: str, runtime: RuntimeDep) -> CustomerSegmentPublic:
    """The customer's segment, since when, and the recency, frequency and monetary values it was
    decided on. 404 for a customer never heard of."""
    async with runtime.read() as session:
        return await queries.customer_segment(session, customer_id)


@router.get("/segments")
async def list_segments(ctx: SegmentationDep, runtime: RuntimeDep) -> list[SegmentPublic]:
    """Every segment in precedence order: name, definition (the rule as evaluated) and member
    count."""
    async with runtime.read() as session:
        return await queries.segments_with_sizes(session, ctx.segments)


@router.get("/segments/{name}/members")
async def list_segment_members(
    name: str,
    ctx: SegmentationDep,
    runtime: RuntimeDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> SegmentMembersPage:
    """The members of a segment, a cursor page in customer-id order. 404 for a segment not in
    the table."""
    async with runtime.read() as session:
        return await queries.segment_members(session, ctx.segments, name, limit=limit, after=cursor)
