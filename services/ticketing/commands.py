"""API writes: load, apply the rules, save, publish through the transaction's outbox; each
answers with the public shape of what it changed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.ticketing.handlers import follow_up_complaints
from services.ticketing.models import Agent, SlaPolicyVersion, TicketResponse
from services.ticketing.queries.agents import agent_public, agent_row
from services.ticketing.queries.reports import policy_public
from services.ticketing.queries.tickets import response_public, ticket_public
from services.ticketing.repository import policy as policy_rows
from services.ticketing.repository import staff as staff_rows
from services.ticketing.repository import tickets as ticket_rows
from services.ticketing.repository import tiers as tier_rows
from services.ticketing.rules import events
from services.ticketing.rules.dispatch import agent_for, hand_over
from services.ticketing.rules.sla import SlaPolicy
from services.ticketing.rules.ticket import open_ticket, opening_time
from services.ticketing.rules.values import TicketCategory, TicketKind, TicketStatus
from services.ticketing.schemas import (
    AgentCreate,
    AgentPublic,
    AgentUpdate,
    ResponseCreate,
    ResponsePublic,
    SlaPolicyPublic,
    TicketCreate,
    TicketPublic,
    TicketResolve,
)
from shared.errors import Conflict, InvalidInput
from shared.transaction import Transaction

# --- tickets --------------------------------------------------------------------------------


async def open_customer_ticket(tx: Transaction, command: TicketCreate) -> TicketPublic:
    """A ticket at the tier's SLA, dispatched, with ticket.opened; a complaint also publishes
    complaint.opened, raises the customer's open tickets and opens its callback.
    Raises `OpenedInTheFuture` for an `opened_at` later than now."""
    opened_at = opening_time(command.opened_at, tx.now)
    policy = await policy_rows.current_policy(tx.session)
    state = open_ticket(
        ticket_rows.new_ticket_id(),
        TicketKind(command.kind),
        TicketCategory(command.category),
        await tier_rows.tier_of(tx.session, command.customer_id),
        opened_at,
        policy,
    )
    staff = staff_rows.StaffOfRun(tx.session)
    chosen = agent_for(state, await staff.get())
    if chosen is not None:
        staff.moved(None, chosen.id)
    ticket = ticket_rows.new_ticket_row(
        state,
        customer_id=command.customer_id,
        subject=command.subject,
        description=command.description,
        assignee_id=chosen.id if chosen is not None else None,
        created_at=tx.now,
    )
    tx.session.add(ticket)
    opened = events.ticket_opened(command.customer_id, state)
    if opened is not None:
        await tx.outbox.publish(opened, time=state.opened_at)
    complaint = events.complaint_opened(command.customer_id, state)
    if complaint is not None:
        await tx.outbox.publish(complaint, time=state.opened_at)
        # Its effects on our own tickets are part of the same change, not a trip through the
        # broker and back (where our complaint.opened then finds them done).
        await follow_up_complaints(tx, [complaint], policy=policy, staff=staff)
    await staff.save()
    return ticket_public(ticket)


async def add_response(tx: Transaction, ticket_id: str, command: ResponseCreate) -> ResponsePublic:
    """Record an answer; the first one stops the response SLA clock (`first_response` says
    whether this was it). An unassigned ticket is taken by the answering agent."""
    ticket = await ticket_rows.get_ticket(tx.session, ticket_id)
    if ticket.status != TicketStatus.OPEN:
        raise Conflict("ticket_resolved", f"Ticket {ticket_id!r} is resolved.")
    if command.agent_id is not None and await tx.session.get(Agent, command.agent_id) is None:
        raise InvalidInput("agent_id", f"no agent with id {command.agent_id!r}")
    response = TicketResponse(
        id=f"rsp-{uuid.uuid4().hex}",
        ticket_id=ticket.id,
        agent_id=command.agent_id,
        body=command.body,
        responded_at=tx.now,
    )
    tx.session.add(response)
    first = ticket.first_response_at is None
    if first:
        ticket.first_response_at = tx.now
    if ticket.assignee_id is None and command.agent_id is not None:
        ticket.assignee_id = command.agent_id
        await staff_rows.move_loads(tx.session, {command.agent_id: 1})
    return response_public(response, first)


async def resolve_ticket(tx: Transaction, ticket_id: str, command: TicketResolve) -> TicketPublic:
    """Resolved now with the CSAT given; ticket.resolved for a customer ticket."""
    ticket = await ticket_rows.get_ticket(tx.session, ticket_id)
    if ticket.status == TicketStatus.RESOLVED:
        raise Conflict(
            "already_resolved", f"Ticket {ticket_id!r} is already resolved.", ticket_id=ticket_id
        )
    ticket.status = str(TicketStatus.RESOLVED)
    ticket.resolved_at = tx.now
    ticket.csat = command.csat
    if ticket.assignee_id is not None:
        await staff_rows.move_loads(tx.session, {ticket.assignee_id: -1})
    resolved = events.ticket_resolved(
        ticket.customer_id, ticket_rows.state_of(ticket), tx.now, command.csat
    )
    if resolved is not None:
        await tx.outbox.publish(resolved, time=tx.now)
    return ticket_public(ticket)


# --- agents ---------------------------------------------------------------------------------


async def create_agent(tx: Transaction, command: AgentCreate) -> AgentPublic:
    """An agent with skills (ticket categories) and seniority; 409 if the id is taken."""
    agent_id = command.agent_id or f"agt-{uuid.uuid4().hex[:16]}"
    if await tx.session.get(Agent, agent_id) is not None:
        raise _agent_exists(agent_id)
    agent = Agent(
        agent_id=agent_id,
        name=command.name,
        skills=sorted(set(command.skills)),
        senior=command.senior,
        active=command.active,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(agent)
    try:
        await tx.session.flush()
    except IntegrityError as exc:  # created by a concurrent request
        raise _agent_exists(agent_id) from exc
    return agent_public(agent)


async def update_agent(tx: Transaction, agent_id: str, command: AgentUpdate) -> AgentPublic:
    """Change what is given. Deactivating an agent hands their open tickets to others (or
    back to the queue when nobody fits)."""
    agent = await agent_row(tx.session, agent_id)
    given: dict[str, Any] = command.model_dump(exclude_unset=True)
    if "skills" in given:
        given["skills"] = sorted(set(given["skills"]))
    deactivated = agent.active and given.get("active") is False
    for field, value in given.items():
        setattr(agent, field, value)
    agent.updated_at = tx.now
    if deactivated:
        # Written first: dispatch reads the agents from the database, this one inactive.
        await tx.session.flush()
        await _hand_over_tickets_of(tx, agent_id)
        await tx.session.refresh(agent, ["open_tickets"])
    return agent_public(agent)


async def _hand_over_tickets_of(tx: Transaction, agent_id: str) -> None:
    held = await ticket_rows.open_tickets_held_by(tx.session, agent_id)
    new_assignees = hand_over(
        [ticket_rows.state_of(ticket) for ticket in held], await staff_rows.staff(tx.session)
    )
    moves = staff_rows.LoadMoves()
    for ticket in held:
        ticket.assignee_id = new_assignees[ticket.id]
        moves.moved(agent_id, ticket.assignee_id)
    await moves.save(tx.session)


def _agent_exists(agent_id: str) -> Conflict:
    return Conflict("agent_exists", f"An agent with id {agent_id!r} exists.", agent_id=agent_id)


# --- the SLA policy -------------------------------------------------------------------------


async def put_sla_policy(
    tx: Transaction, document: dict[str, Any], *, changed_by: str
) -> SlaPolicyPublic:
    """Store a new version (raises `PolicyError` naming the field it refuses). It applies to
    tickets prioritised from now on; due times already computed are left as they are."""
    policy = SlaPolicy.from_dict(document)
    current = await policy_rows.current_policy_row(tx.session)
    row = SlaPolicyVersion(
        version=(current.version if current is not None else 0) + 1,
        policy=policy.to_dict(),
        effective_at=tx.now,
        changed_by=changed_by,
    )
    tx.session.add(row)
    try:
        await tx.session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "policy_changed", "The SLA policy was changed concurrently; read it and retry."
        ) from exc
    return policy_public(policy, row)
