"""Ticket reads: one ticket, the ticket lists, the work queue and a ticket's answers; and the
public shape of tickets and answers (which the ticket commands answer with too).

The lists are cursor pages. A cursor holds the position of the last ticket of a page in the
list's order, every column of the order down to the unique id, so a page boundary never
skips or repeats a ticket.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import IS_OPEN, PriorityChange, Ticket, TicketResponse
from services.ticketing.repository import tickets as ticket_rows
from services.ticketing.rules.values import Priority
from services.ticketing.schemas import ResponsePublic, TicketPage, TicketPublic
from shared.errors import InvalidInput
from shared.pagination import next_cursor


async def get_ticket(session: AsyncSession, ticket_id: str) -> TicketPublic:
    return ticket_public(await ticket_rows.get_ticket(session, ticket_id))


async def list_tickets(
    session: AsyncSession,
    *,
    customer_id: str | None,
    status: str | None,
    limit: int,
    after: str | None,
) -> TicketPage:
    """Tickets, newest first (then by id)."""
    query = select(Ticket)
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    if status is not None:
        query = query.where(Ticket.status == status)
    ordered = query.order_by(Ticket.opened_at.desc(), Ticket.id)
    if after is not None:
        opened_at, ticket_id = _parts(after, 2)
        opened = _moment(opened_at)
        ordered = ordered.where(
            or_(Ticket.opened_at < opened, and_(Ticket.opened_at == opened, Ticket.id > ticket_id))
        )
    return await _page(session, query, ordered, limit, _newest_first_position)


async def work_queue(
    session: AsyncSession,
    *,
    category: str | None,
    assignee: str | None,
    limit: int,
    after: str | None,
) -> TicketPage:
    """Open tickets in work order, `rules.queue.queue_key` in SQL (priority names sort like
    their rank), so the queue pages in the database."""
    query = select(Ticket).where(IS_OPEN)
    if category is not None:
        query = query.where(Ticket.category == category)
    if assignee is not None:
        query = query.where(Ticket.assignee_id == assignee)
    ordered = query.order_by(Ticket.priority, Ticket.response_due_at, Ticket.opened_at, Ticket.id)
    if after is not None:
        ordered = ordered.where(_after_in_work_order(after))
    return await _page(session, query, ordered, limit, _work_order_position)


def _after_in_work_order(after: str) -> ColumnElement[bool]:
    priority, due_at, opened_at, ticket_id = _parts(after, 4)
    if priority not in set(Priority):
        raise _foreign_cursor()
    due, opened = _moment(due_at), _moment(opened_at)
    same_priority = Ticket.priority == priority
    same_due = and_(same_priority, Ticket.response_due_at == due)
    same_opened = and_(same_due, Ticket.opened_at == opened)
    return or_(
        Ticket.priority > priority,
        and_(same_priority, Ticket.response_due_at > due),
        and_(same_due, Ticket.opened_at > opened),
        and_(same_opened, Ticket.id > ticket_id),
    )


def _newest_first_position(ticket: Ticket) -> str:
    return f"{ticket.opened_at.isoformat()}|{ticket.id}"


def _work_order_position(ticket: Ticket) -> str:
    due, opened = ticket.response_due_at.isoformat(), ticket.opened_at.isoformat()
    return f"{ticket.priority}|{due}|{opened}|{ticket.id}"


def _parts(after: str, count: int) -> list[str]:
    """The columns of a position; the id comes last, so it may hold any character."""
    parts = after.split("|", count - 1)
    if len(parts) != count or not parts[-1]:
        raise _foreign_cursor()
    return parts


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _foreign_cursor() from None
    if moment.tzinfo is None:
        raise _foreign_cursor()
    return moment


def _foreign_cursor() -> InvalidInput:
    return InvalidInput("cursor", "not a cursor returned by this list", location="query")


async def _page(
    session: AsyncSession,
    filtered: Select[Ticket],
    ordered: Select[Ticket],
    limit: int,
    position: Callable[[Ticket], str],
) -> TicketPage:
    total = await session.scalar(select(func.count()).select_from(filtered.subquery()))
    rows = (await session.scalars(ordered.limit(limit + 1))).all()
    return TicketPage(
        items=[ticket_public(ticket) for ticket in rows[:limit]],
        next_cursor=next_cursor([position(ticket) for ticket in rows], limit),
        total=total or 0,
        limit=limit,
    )


async def list_responses(session: AsyncSession, ticket_id: str) -> list[ResponsePublic]:
    """Oldest first; the first one is the first response."""
    await ticket_rows.get_ticket(session, ticket_id)
    responses = (
        await session.scalars(
            select(TicketResponse)
            .where(TicketResponse.ticket_id == ticket_id)
            .order_by(TicketResponse.responded_at, TicketResponse.id)
        )
    ).all()
    return [response_public(response, index == 0) for index, response in enumerate(responses)]


def ticket_public(ticket: Ticket) -> TicketPublic:
    return TicketPublic.model_validate(
        {
            "id": ticket.id,
            "customer_id": ticket.customer_id,
            "kind": ticket.kind,
            "category": ticket.category,
            "subject": ticket.subject,
            "description": ticket.description,
            "status": ticket.status,
            "opened_at": ticket.opened_at,
            "priority": ticket.priority,
            "tier": ticket.tier,
            "response_due_at": ticket.response_due_at,
            "first_response_at": ticket.first_response_at,
            "resolved_at": ticket.resolved_at,
            "csat": ticket.csat,
            "assignee": ticket.assignee_id,
            "sla_breached_at": ticket.sla_breached_at,
            "follow_up_of": ticket.follow_up_of,
            "erased": ticket.erased_at is not None,
            "history": [_change_public(change) for change in ticket.history],
        }
    )


def _change_public(change: PriorityChange) -> dict[str, Any]:
    return {
        "reason": change.reason,
        "tier": change.tier,
        "old_priority": change.old_priority,
        "new_priority": change.new_priority,
        "old_response_due_at": change.old_response_due_at,
        "new_response_due_at": change.new_response_due_at,
        "at": change.changed_at,
    }


def response_public(response: TicketResponse, first_response: bool) -> ResponsePublic:
    return ResponsePublic(
        id=response.id,
        ticket_id=response.ticket_id,
        agent_id=response.agent_id,
        body=response.body,
        responded_at=response.responded_at,
        first_response=first_response,
    )
