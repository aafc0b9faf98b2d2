"""Points held over the daily cap: the review queue and an admin's decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.loyalty.api.deps import READ, AdminDep
from services.loyalty.api.shapes import hold_public
from services.loyalty.handlers import queries
from services.loyalty.handlers.holds import settle_hold
from services.loyalty.schemas import HoldPage, HoldPublic, HoldStatus
from shared.app import RuntimeDep

router = APIRouter(prefix="/v1/holds", tags=["holds"])
HoldId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("", dependencies=[READ])
async def list_holds(
    runtime: RuntimeDep,
    status: HoldStatus = "pending",
    customer_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HoldPage:
    async with runtime.transaction() as session:
        holds, total = await queries.list_holds(
            session, status=status, customer_id=customer_id, limit=limit, offset=offset
        )
    return HoldPage(
        holds=[hold_public(hold) for hold in holds],
        total=total,
        next_offset=offset + limit if offset + limit < total else None,
    )


@router.post("/{hold_id}/release")
async def release_hold(hold_id: HoldId, runtime: RuntimeDep, admin: AdminDep) -> HoldPublic:
    """Credit the held points in full (past the cap); they expire from the earn's time."""
    async with runtime.transaction() as session:
        hold = await settle_hold(
            session, hold_id, release=True, now=runtime.clock.now(), admin=admin.name
        )
        return hold_public(hold)


@router.post("/{hold_id}/cancel")
async def cancel_hold(hold_id: HoldId, runtime: RuntimeDep, admin: AdminDep) -> HoldPublic:
    """Drop the held points; the order keeps only what was credited."""
    async with runtime.transaction() as session:
        hold = await settle_hold(
            session, hold_id, release=False, now=runtime.clock.now(), admin=admin.name
        )
        return hold_public(hold)
