"""Assigning tickets to agents: the dispatch rules applied to the agents and loads on record."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing import models
from services.ticketing.rules import (
    Agent,
    TicketCategory,
    TicketKind,
    TicketStatus,
    Tier,
    choose_agent,
    requires_senior,
)


def agent_of(row: models.Agent) -> Agent:
    return Agent(
        id=row.agent_id,
        skills=frozenset(TicketCategory(skill) for skill in row.skills),
        senior=row.senior,
        active=row.active,
    )


async def agents_on_record(session: AsyncSession) -> list[Agent]:
    return [agent_of(row) for row in (await session.scalars(select(models.Agent))).all()]


async def open_loads(session: AsyncSession) -> dict[str, int]:
    """Agent id -> open tickets assigned to them."""
    rows = await session.execute(
        select(models.Ticket.assignee_id, func.count())
        .where(
            models.Ticket.status == TicketStatus.OPEN,
            models.Ticket.assignee_id.is_not(None),
        )
        .group_by(models.Ticket.assignee_id)
    )
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


async def pick_agent(
    session: AsyncSession, category: TicketCategory, *, needs_senior: bool
) -> Agent | None:
    return choose_agent(
        await agents_on_record(session), category, needs_senior, await open_loads(session)
    )


async def pick_senior_for_callback(session: AsyncSession, category: TicketCategory) -> Agent | None:
    """A senior with the complaint's skill; failing that any active senior, since a follow-up
    call is about the customer more than the category."""
    agents = await agents_on_record(session)
    loads = await open_loads(session)
    chosen = choose_agent(agents, category, True, loads)
    if chosen is None:
        every_skill = frozenset(TicketCategory)
        chosen = choose_agent(
            [replace(agent, skills=every_skill) for agent in agents], category, True, loads
        )
    return chosen


async def _choose_for(session: AsyncSession, ticket: models.Ticket) -> Agent | None:
    kind, category = TicketKind(ticket.kind), TicketCategory(ticket.category)
    if kind is TicketKind.CALLBACK:
        return await pick_senior_for_callback(session, category)
    needs_senior = requires_senior(
        kind, Tier(ticket.tier), breached=ticket.sla_breached_at is not None
    )
    return await pick_agent(session, category, needs_senior=needs_senior)


async def assign_new(session: AsyncSession, ticket: models.Ticket) -> None:
    """Dispatch a ticket; it stays unassigned (still in the queue) when nobody fits."""
    chosen = await _choose_for(session, ticket)
    ticket.assignee_id = chosen.id if chosen is not None else None


async def reassign_to_senior(session: AsyncSession, ticket: models.Ticket) -> None:
    """After a breach: the least-loaded senior with the skill. When there is none the current
    assignee keeps the ticket rather than leaving it with nobody."""
    chosen = await pick_agent(session, TicketCategory(ticket.category), needs_senior=True)
    if chosen is not None:
        ticket.assignee_id = chosen.id


async def redispatch_if_unfit(session: AsyncSession, ticket: models.Ticket) -> None:
    """After a ticket became more urgent: one that now needs a senior (VIP tier) but sits with a
    junior, an inactive agent or nobody is dispatched again; it is kept when nobody fits."""
    needs_senior = requires_senior(
        TicketKind(ticket.kind), Tier(ticket.tier), breached=ticket.sla_breached_at is not None
    )
    if ticket.assignee_id is not None:
        current = await session.get(models.Agent, ticket.assignee_id)
        if current is not None and current.active and (current.senior or not needs_senior):
            return
    chosen = await _choose_for(session, ticket)
    if chosen is not None:
        ticket.assignee_id = chosen.id


async def release_tickets_of(session: AsyncSession, agent_id: str) -> None:
    """An agent was deactivated: their open tickets go to others, or back to the queue."""
    held = (
        await session.scalars(
            select(models.Ticket)
            .where(
                models.Ticket.assignee_id == agent_id,
                models.Ticket.status == TicketStatus.OPEN,
            )
            .order_by(models.Ticket.priority, models.Ticket.response_due_at, models.Ticket.id)
        )
    ).all()
    for ticket in held:
        ticket.assignee_id = None
        await session.flush()  # so the loads no longer count it against anyone
        await assign_new(session, ticket)
