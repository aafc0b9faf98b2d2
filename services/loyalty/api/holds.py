"""Points held over the daily cap: the review queue and an admin's decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.loyalty import queries
from services.loyalty.commands.holds import settle_hold
from services.loyalty.context import READ
from services.loyalty.schemas import HoldPage, HoldPublic, HoldStatus
from shared.api_document import conflicts
from shared.app import RuntimeDep
from shared.auth import AdminDep
from shared.pagination import CursorQuery, LimitQuery

router = APIRouter(prefix="/v1/holds", tags=["holds"])
HoldId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("", dependencies=[READ])
async def list_holds(
    runtime: RuntimeDep,
    status: HoldStatus = "pending",
    customer_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
) -> HoldPage:
    """Points held for review (earns over the daily cap), pending by default, a cursor page."""
    async with runtime.read() as session:
        return await queries.list_holds(
            session, status=status, customer_id=customer_id, limit=limit, after=cursor
        )


@router.post("/{hold_id}/release", responses=conflicts("hold_not_pending: the hold is settled"))
async def release_hold(hold_id: HoldId, runtime: RuntimeDep, admin: AdminDep) -> HoldPublic:
    """Credit the held points in full (past the cap); they expire from the earn's time."""
    async with runtime.transaction() as tx:
        return await settle_hold(tx, hold_id, release=True, admin=admin.name)


@router.post("/{hold_id}/cancel", responses=conflicts("hold_not_pending: the hold is settled"))
async def cancel_hold(hold_id: HoldId, runtime: RuntimeDep, admin: AdminDep) -> HoldPublic:
    """Drop the held points; the order keeps only what was credited."""
    async with runtime.transaction() as tx:
        return await settle_hold(tx, hold_id, release=False, admin=admin.name)
