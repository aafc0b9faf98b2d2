"""Ticket routes and the work queue."""

from __future__ import annotations

from fastapi import APIRouter, Body

from services.ticketing.api.deps import READ, WRITE, Limit, Offset, next_offset
from services.ticketing.api.shapes import response_public, ticket_public
from services.ticketing.handlers import tickets as handlers
from services.ticketing.schemas import (
    Category,
    CustomerId,
    Id,
    ResponseCreate,
    ResponsePublic,
    StatusName,
    TicketCreate,
    TicketPage,
    TicketPublic,
    TicketResolve,
)
from shared.app import RuntimeDep

router = APIRouter(prefix="/v1", tags=["tickets"])


@router.post("/tickets", status_code=201, dependencies=[WRITE])
async def open_ticket(body: TicketCreate, runtime: RuntimeDep) -> TicketPublic:
    """Open a ticket at the customer's tier SLA and dispatch it. A complaint also publishes
    complaint.opened, which reprioritises the customer's other open tickets."""
    async with runtime.transaction() as session:
        ticket = await handlers.open_customer_ticket(
            session, body, now=runtime.clock.now(), source=runtime.settings.event_source
        )
        return ticket_public(ticket)


@router.get("/tickets", dependencies=[READ])
async def list_tickets(
    runtime: RuntimeDep,
    customer_id: CustomerId | None = None,
    status: StatusName | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> TicketPage:
    """Tickets, newest first."""
    async with runtime.transaction() as session:
        items, total = await handlers.list_tickets(
            session, customer_id=customer_id, status=status, limit=limit, offset=offset
        )
        return TicketPage(
            items=[ticket_public(ticket) for ticket in items],
            total=total,
            limit=limit,
            offset=offset,
            next_offset=next_offset(offset, limit, total),
        )


@router.get("/tickets/{ticket_id}", dependencies=[READ])
async def get_ticket(ticket_id: str, runtime: RuntimeDep) -> TicketPublic:
    async with runtime.transaction() as session:
        return ticket_public(await handlers.get_ticket(session, ticket_id))


@router.post("/tickets/{ticket_id}/responses", status_code=201, dependencies=[WRITE])
async def add_response(ticket_id: str, body: ResponseCreate, runtime: RuntimeDep) -> ResponsePublic:
    """Answer a ticket; the first answer stops its response SLA clock."""
    async with runtime.transaction() as session:
        response, first = await handlers.add_response(
            session, ticket_id, body, now=runtime.clock.now()
        )
        return response_public(response, first)


@router.get("/tickets/{ticket_id}/responses", dependencies=[READ])
async def list_responses(ticket_id: str, runtime: RuntimeDep) -> list[ResponsePublic]:
    async with runtime.transaction() as session:
        responses = await handlers.list_responses(session, ticket_id)
        return [response_public(item, index == 0) for index, item in enumerate(responses)]


@router.post("/tickets/{ticket_id}/resolve", dependencies=[WRITE])
async def resolve_ticket(
    ticket_id: str, runtime: RuntimeDep, body: TicketResolve | None = Body(default=None)
) -> TicketPublic:
    """Resolve with an optional CSAT (1-5); publishes ticket.resolved. 409 if resolved."""
    async with runtime.transaction() as session:
        ticket = await handlers.resolve_ticket(
            session,
            ticket_id,
            body or TicketResolve(),
            now=runtime.clock.now(),
            source=runtime.settings.event_source,
        )
        return ticket_public(ticket)


@router.get("/queue", dependencies=[READ])
async def work_queue(
    runtime: RuntimeDep,
    category: Category | None = None,
    assignee: Id | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> TicketPage:
    """Open tickets in work order: priority, then response due time, then age."""
    async with runtime.transaction() as session:
        items, total = await handlers.work_queue(
            session, category=category, assignee=assignee, limit=limit, offset=offset
        )
        return TicketPage(
            items=[ticket_public(ticket) for ticket in items],
            total=total,
            limit=limit,
            offset=offset,
            next_offset=next_offset(offset, limit, total),
        )
