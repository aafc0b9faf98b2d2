"""Ticketing routes: parse, call a command or query, shape the response — nothing else."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query
from pydantic import AwareDatetime

from services.ticketing import commands
from services.ticketing.queries import agents, reports, tickets
from services.ticketing.rules.sla import PolicyError
from services.ticketing.rules.ticket import OpenedInTheFuture
from services.ticketing.schemas import (
    AgentCreate,
    AgentPublic,
    AgentUpdate,
    Category,
    CustomerId,
    CustomerTierPublic,
    Id,
    ResponseCreate,
    ResponsePublic,
    ReturnReasonReport,
    SlaPolicyPublic,
    StatusName,
    TicketCreate,
    TicketPage,
    TicketPublic,
    TicketResolve,
)
from shared.api_document import conflicts
from shared.app import RuntimeDep
from shared.auth import AdminDep, scope_dependencies
from shared.errors import InvalidInput
from shared.pagination import CursorQuery, LimitQuery

READ, WRITE = scope_dependencies("ticketing")

router = APIRouter(prefix="/v1")

# --- tickets and the work queue -------------------------------------------------------------


@router.post("/tickets", status_code=201, dependencies=[WRITE], tags=["tickets"])
async def open_ticket(body: TicketCreate, runtime: RuntimeDep) -> TicketPublic:
    """Open a ticket at the customer's tier SLA and dispatch it. A complaint also publishes
    complaint.opened, and in the same transaction reprioritises the customer's other open
    tickets and opens its callback."""
    try:
        async with runtime.transaction() as tx:
            return await commands.open_customer_ticket(tx, body)
    except OpenedInTheFuture as refused:
        raise InvalidInput("opened_at", str(refused)) from refused


@router.get("/tickets", dependencies=[READ], tags=["tickets"])
async def list_tickets(
    runtime: RuntimeDep,
    customer_id: CustomerId | None = None,
    status: StatusName | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> TicketPage:
    """Tickets, newest first."""
    async with runtime.read() as session:
        return await tickets.list_tickets(
            session, customer_id=customer_id, status=status, limit=limit, after=cursor
        )


@router.get("/tickets/{ticket_id}", dependencies=[READ], tags=["tickets"])
async def get_ticket(ticket_id: str, runtime: RuntimeDep) -> TicketPublic:
    """A ticket: customer, kind, category, priority and tier, due times, assignee, status and
    CSAT."""
    async with runtime.read() as session:
        return await tickets.get_ticket(session, ticket_id)


@router.post(
    "/tickets/{ticket_id}/responses",
    status_code=201,
    dependencies=[WRITE],
    tags=["tickets"],
    responses=conflicts("ticket_resolved: the ticket is resolved"),
)
async def add_response(ticket_id: str, body: ResponseCreate, runtime: RuntimeDep) -> ResponsePublic:
    """Answer a ticket; the first answer stops its response SLA clock."""
    async with runtime.transaction() as tx:
        return await commands.add_response(tx, ticket_id, body)


@router.get("/tickets/{ticket_id}/responses", dependencies=[READ], tags=["tickets"])
async def list_responses(ticket_id: str, runtime: RuntimeDep) -> list[ResponsePublic]:
    """The answers given on a ticket, oldest first."""
    async with runtime.read() as session:
        return await tickets.list_responses(session, ticket_id)


@router.post(
    "/tickets/{ticket_id}/resolve",
    dependencies=[WRITE],
    tags=["tickets"],
    responses=conflicts("already_resolved: the ticket is already resolved"),
)
async def resolve_ticket(
    ticket_id: str, runtime: RuntimeDep, body: TicketResolve | None = Body(default=None)
) -> TicketPublic:
    """Resolve with an optional CSAT (1-5); publishes ticket.resolved. 409 if resolved."""
    async with runtime.transaction() as tx:
        return await commands.resolve_ticket(tx, ticket_id, body or TicketResolve())


@router.get("/queue", dependencies=[READ], tags=["tickets"])
async def work_queue(
    runtime: RuntimeDep,
    category: Category | None = None,
    assignee: Id | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> TicketPage:
    """Open tickets in work order: priority, then response due time, then age."""
    async with runtime.read() as session:
        return await tickets.work_queue(
            session, category=category, assignee=assignee, limit=limit, after=cursor
        )


# --- agents ---------------------------------------------------------------------------------


@router.post(
    "/agents",
    status_code=201,
    dependencies=[WRITE],
    tags=["agents"],
    responses=conflicts("agent_exists: an agent has this id"),
)
async def create_agent(body: AgentCreate, runtime: RuntimeDep) -> AgentPublic:
    """An agent with skills (ticket categories) and seniority. 409 if the id is taken."""
    async with runtime.transaction() as tx:
        return await commands.create_agent(tx, body)


@router.get("/agents", dependencies=[READ], tags=["agents"])
async def list_agents(runtime: RuntimeDep) -> list[AgentPublic]:
    """Every agent with skills, seniority, whether active, and open-ticket load."""
    async with runtime.read() as session:
        return await agents.list_agents(session)


@router.get("/agents/{agent_id}", dependencies=[READ], tags=["agents"])
async def get_agent(agent_id: str, runtime: RuntimeDep) -> AgentPublic:
    """One agent: skills, seniority, whether active, and open-ticket load. 404 for an unknown id."""
    async with runtime.read() as session:
        return await agents.get_agent(session, agent_id)


@router.patch("/agents/{agent_id}", dependencies=[WRITE], tags=["agents"])
async def update_agent(agent_id: str, body: AgentUpdate, runtime: RuntimeDep) -> AgentPublic:
    """Change name, skills, seniority or active; deactivating hands the agent's open tickets
    to others (or back to the queue)."""
    async with runtime.transaction() as tx:
        return await commands.update_agent(tx, agent_id, body)


# --- SLA policy, the tier read model and the return-reason report ---------------------------

_POLICY_EXAMPLE = {
    "first_response_hours": {"bronze": 24, "silver": 24, "gold": 4, "platinum": 4},
    "complaint_priority": {"bronze": "P2", "silver": "P2", "gold": "P1", "platinum": "P1"},
    "other_priority": "P3",
}


@router.get("/sla-policy", dependencies=[READ], tags=["policy and reports"])
async def get_sla_policy(runtime: RuntimeDep) -> SlaPolicyPublic:
    """The SLA policy in force: first-response hours by tier, complaint priority by tier, the
    priority of other tickets, its version and who changed it when."""
    async with runtime.read() as session:
        return await reports.sla_policy(session)


@router.put(
    "/sla-policy",
    tags=["policy and reports"],
    responses=conflicts("policy_changed: changed concurrently; read it and retry"),
)
async def put_sla_policy(
    runtime: RuntimeDep,
    principal: AdminDep,
    body: dict[str, Any] = Body(examples=[_POLICY_EXAMPLE]),
) -> SlaPolicyPublic:
    """Replace the policy (admin). A top-level field left out takes its default. It applies to
    tickets prioritised from now on."""
    try:
        async with runtime.transaction() as tx:
            return await commands.put_sla_policy(tx, body, changed_by=principal.name)
    except PolicyError as refused:
        raise InvalidInput(refused.field, refused.message) from refused


@router.get("/customers/{customer_id}/tier", dependencies=[READ], tags=["policy and reports"])
async def get_customer_tier(customer_id: str, runtime: RuntimeDep) -> CustomerTierPublic:
    """The tier ticketing has learned from tier.changed; bronze for a customer it hasn't."""
    async with runtime.read() as session:
        return await reports.customer_tier(session, customer_id)


@router.get("/reports/return-reasons", dependencies=[READ], tags=["policy and reports"])
async def return_reasons(
    runtime: RuntimeDep,
    since: AwareDatetime | None = Query(default=None, description="refunds at or after"),
    until: AwareDatetime | None = Query(default=None, description="refunds before"),
) -> ReturnReasonReport:
    """Refunds by reason, for product teams."""
    if since is not None and until is not None and until <= since:
        raise InvalidInput("until", "must be after since", location="query")
    async with runtime.read() as session:
        return await reports.return_reasons(session, since=since, until=until)
