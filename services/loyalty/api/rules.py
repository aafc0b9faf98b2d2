"""The rules: the version in force, any past version, and publishing a new one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.loyalty.api.deps import READ, AdminDep
from services.loyalty.api.shapes import rules_public
from services.loyalty.handlers.rules import publish_rule_version
from services.loyalty.rule_store import rule_version, rule_version_in_force
from services.loyalty.schemas import RulesPublic, RulesUpdate
from shared.app import RuntimeDep
from shared.errors import NotFound

router = APIRouter(prefix="/v1/rules", tags=["rules"])


@router.get("", dependencies=[READ])
async def get_rules_in_force(runtime: RuntimeDep) -> RulesPublic:
    async with runtime.transaction() as session:
        return rules_public(await rule_version_in_force(session))


@router.get("/{version}", dependencies=[READ])
async def get_rules_version(
    version: Annotated[int, Path(ge=1)], runtime: RuntimeDep
) -> RulesPublic:
    async with runtime.transaction() as session:
        row = await rule_version(session, version)
        if row is None:
            raise NotFound("rules version", str(version))
        return rules_public(row)


@router.post("", status_code=201)
async def publish_rules(
    body: RulesUpdate,  # type: ignore[valid-type]
    runtime: RuntimeDep,
    admin: AdminDep,
) -> RulesPublic:
    """A new version: the version in force with the fields given changed. Entries already
    made keep the version that made them."""
    changes = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
    async with runtime.transaction() as session:
        row = await publish_rule_version(
            session, changes, now=runtime.clock.now(), admin=admin.name
        )
        return rules_public(row)
