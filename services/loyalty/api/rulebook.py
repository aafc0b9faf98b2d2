"""The rulebook: the version in force, any past version, and publishing a new one. The paths
stay `/v1/rules` (the HTTP contract)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.loyalty import queries
from services.loyalty.commands.rulebook import publish_rulebook
from services.loyalty.context import READ
from services.loyalty.schemas import RulebookPublic, RulebookUpdate
from shared.api_document import conflicts
from shared.app import RuntimeDep
from shared.auth import AdminDep

router = APIRouter(prefix="/v1/rules", tags=["rulebook"])


@router.get("", dependencies=[READ])
async def get_rulebook_in_force(runtime: RuntimeDep) -> RulebookPublic:
    """The earn and tier rulebook in force, with its version."""
    async with runtime.read() as session:
        return await queries.rulebook_in_force_public(session)


@router.get("/{version}", dependencies=[READ])
async def get_rulebook_version(
    version: Annotated[int, Path(ge=1, le=2**31 - 1)], runtime: RuntimeDep
) -> RulebookPublic:
    """One version of the rulebook, as it was published. 404 for a version never published."""
    async with runtime.read() as session:
        return await queries.rulebook_version_public(session, version)


@router.post(
    "",
    status_code=201,
    responses=conflicts(
        "rules_version_conflict: the document names a version other than the next one"
    ),
)
async def publish_new_rulebook_version(
    body: RulebookUpdate,  # type: ignore[valid-type]
    runtime: RuntimeDep,
    admin: AdminDep,
) -> RulebookPublic:
    """A new version: the version in force with the fields given changed. Entries already
    made keep the version that made them."""
    changes = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
    async with runtime.transaction() as tx:
        return await publish_rulebook(tx, changes, admin=admin.name)
