"""SLA policy, the tier read model and the return-reason report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query
from pydantic import AwareDatetime

from services.ticketing.api.deps import READ, AdminDep
from services.ticketing.api.shapes import policy_public, tier_public
from services.ticketing.errors import InvalidInput
from services.ticketing.handlers import policy as handlers
from services.ticketing.handlers import reports
from services.ticketing.schemas import CustomerTierPublic, ReturnReasonReport, SlaPolicyPublic
from shared.app import RuntimeDep

router = APIRouter(prefix="/v1", tags=["policy and reports"])

_POLICY_EXAMPLE = {
    "first_response_hours": {"bronze": 24, "silver": 24, "gold": 4, "platinum": 4},
    "complaint_priority": {"bronze": "P2", "silver": "P2", "gold": "P1", "platinum": "P1"},
    "other_priority": "P3",
}


@router.get("/sla-policy", dependencies=[READ])
async def get_sla_policy(runtime: RuntimeDep) -> SlaPolicyPublic:
    async with runtime.transaction() as session:
        policy, row = await handlers.get_policy(session)
        return policy_public(policy, row)


@router.put("/sla-policy")
async def put_sla_policy(
    runtime: RuntimeDep,
    principal: AdminDep,
    body: dict[str, Any] = Body(examples=[_POLICY_EXAMPLE]),
) -> SlaPolicyPublic:
    """Replace the policy (admin). A top-level field left out takes its default. It applies to
    tickets prioritised from now on."""
    async with runtime.transaction() as session:
        policy, row = await handlers.put_policy(
            session, body, now=runtime.clock.now(), changed_by=principal.name
        )
        return policy_public(policy, row)


@router.get("/customers/{customer_id}/tier", dependencies=[READ])
async def get_customer_tier(customer_id: str, runtime: RuntimeDep) -> CustomerTierPublic:
    """The tier ticketing has learned from tier.changed; bronze for a customer it hasn't."""
    async with runtime.transaction() as session:
        return tier_public(customer_id, await reports.customer_tier(session, customer_id))


@router.get("/reports/return-reasons", dependencies=[READ])
async def return_reasons(
    runtime: RuntimeDep,
    since: AwareDatetime | None = Query(default=None, description="refunds at or after"),
    until: AwareDatetime | None = Query(default=None, description="refunds before"),
) -> ReturnReasonReport:
    """Refunds by reason, for product teams."""
    if since is not None and until is not None and until <= since:
        raise InvalidInput("until", "must be after since", location="query")
    async with runtime.transaction() as session:
        return await reports.return_reasons(session, since=since, until=until)
