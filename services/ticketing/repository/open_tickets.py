"""Open tickets a run of events or a sweep works on, as a set: read with one query, changed in
memory by the rules, written with one statement per table (new tickets, changed tickets,
their history entries). Core statements only: no mapped objects on the hot path."""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import IS_OPEN, PriorityChange, Ticket
from services.ticketing.repository.tickets import state_of
from services.ticketing.rules.ticket import Change, TicketState, apply_change
from shared import bulk
from shared.bulk import update_by_key

tickets = cast(Table, Ticket.__table__)
priority_changes = cast(Table, PriorityChange.__table__)

_COLUMNS = (
    tickets.c.id,
    tickets.c.customer_id,
    tickets.c.kind,
    tickets.c.category,
    tickets.c.status,
    tickets.c.tier,
    tickets.c.priority,
    tickets.c.opened_at,
    tickets.c.response_due_at,
    tickets.c.first_response_at,
    tickets.c.sla_breached_at,
    tickets.c.assignee_id,
)


@dataclass(eq=False)
class HeldTicket:
    """An open ticket in hand: what the rules see, whose it is and who works on it."""

    state: TicketState
    customer_id: str
    assignee_id: str | None

    @property
    def order(self) -> tuple[datetime, str]:
        """A customer's tickets are worked through oldest first (then by id)."""
        return (self.state.opened_at, self.state.id)


@dataclass(frozen=True)
class NewTicket:
    """What a ticket opened in the run carries besides its state."""

    subject: str | None
    created_at: datetime
    follow_up_of: str | None = None


class OpenTickets:
    def __init__(self, held: Sequence[HeldTicket]) -> None:
        self._of_customer: dict[str, list[HeldTicket]] = {}
        for ticket in held:
            self._of_customer.setdefault(ticket.customer_id, []).append(ticket)
        self._in_order = list(held)
        self._changed: dict[str, HeldTicket] = {}
        self._new: dict[str, tuple[HeldTicket, NewTicket]] = {}
        self._history: list[dict[str, Any]] = []

    @classmethod
    async def of_customers(
        cls, session: AsyncSession, customer_ids: Collection[str], *, lock: bool = False
    ) -> OpenTickets:
        """Every open ticket of the customers, each customer's oldest first; with ``lock``,
        held until the commit, so a writer that decides on the same tickets waits and then
        sees what this one did."""
        query = (
            select(*_COLUMNS)
            .where(IS_OPEN, tickets.c.customer_id.in_(sorted(customer_ids)))
            .order_by(tickets.c.customer_id, tickets.c.opened_at, tickets.c.id)
        )
        if lock:
            query = query.with_for_update()
        return await cls._load(session, query)

    @classmethod
    async def overdue(cls, session: AsyncSession, now: datetime, limit: int) -> OpenTickets:
        """Open, unanswered tickets past their due time and not yet marked breached, earliest
        due first, at most `limit`. Replicas scanning at once skip each other's rows: one
        sla.breached per ticket."""
        query = (
            select(*_COLUMNS)
            .where(
                IS_OPEN,
                tickets.c.first_response_at.is_(None),
                tickets.c.sla_breached_at.is_(None),
                tickets.c.response_due_at < now,
            )
            .order_by(tickets.c.response_due_at, tickets.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await cls._load(session, query)

    @classmethod
    async def _load(cls, session: AsyncSession, query: Select[Any]) -> OpenTickets:
        rows = await session.execute(query)
        return cls([HeldTicket(state_of(row), row.customer_id, row.assignee_id) for row in rows])

    def __len__(self) -> int:
        return len(self._in_order)

    def __iter__(self) -> Iterator[HeldTicket]:
        return iter(list(self._in_order))

    def of(self, customer_id: str) -> list[HeldTicket]:
        """The customer's open tickets as they now are, oldest first (a copy: opening one
        while going through them is allowed)."""
        return list(self._of_customer.get(customer_id, ()))

    def record(self, ticket: HeldTicket, change: Change) -> None:
        """Apply a change the rules decided and keep it for the ticket's history; the ticket
        is written as it stands at `save` (its assignee included)."""
        ticket.state = apply_change(ticket.state, change)
        if ticket.state.id not in self._new:
            self._changed[ticket.state.id] = ticket
        self._history.append(
            {
                "ticket_id": change.ticket_id,
                "reason": str(change.reason),
                "tier": str(change.tier),
                "old_priority": str(change.old_priority),
                "new_priority": str(change.new_priority),
                "old_response_due_at": change.old_response_due_at,
                "new_response_due_at": change.new_response_due_at,
                "changed_at": change.changed_at,
            }
        )

    def open(
        self, state: TicketState, customer_id: str, assignee_id: str | None, opened: NewTicket
    ) -> HeldTicket:
        """A ticket opened in the run; later events of the run see it among the customer's."""
        ticket = HeldTicket(state, customer_id, assignee_id)
        held = self._of_customer.setdefault(customer_id, [])
        bisect.insort(held, ticket, key=lambda t: t.order)
        self._in_order.append(ticket)
        self._new[state.id] = (ticket, opened)
        return ticket

    async def save(self, session: AsyncSession) -> None:
        """New tickets, then the changed ones, then the history entries, each in one
        statement; nothing when nothing changed."""
        new_rows = [_new_row(held, opened) for held, opened in self._new.values()]
        await bulk.insert_rows(session, tickets, new_rows)
        # In id order, so writers that meet on the same tickets lock them alike.
        await update_by_key(
            session,
            tickets,
            [_changed_row(self._changed[ticket_id]) for ticket_id in sorted(self._changed)],
            key=["id"],
        )
        await bulk.insert_rows(session, priority_changes, self._history)
        self._new, self._changed, self._history = {}, {}, []


def _changed_row(ticket: HeldTicket) -> dict[str, Any]:
    state = ticket.state
    return {
        "id": state.id,
        "tier": str(state.tier),
        "priority": str(state.priority),
        "response_due_at": state.response_due_at,
        "sla_breached_at": state.sla_breached_at,
        "assignee_id": ticket.assignee_id,
    }


def _new_row(ticket: HeldTicket, opened: NewTicket) -> dict[str, Any]:
    state = ticket.state
    return {
        "id": state.id,
        "customer_id": ticket.customer_id,
        "kind": str(state.kind),
        "category": str(state.category),
        "subject": opened.subject,
        "description": None,
        "status": str(state.status),
        "tier": str(state.tier),
        "priority": str(state.priority),
        "opened_at": state.opened_at,
        "response_due_at": state.response_due_at,
        "first_response_at": None,
        "resolved_at": None,
        "sla_breached_at": state.sla_breached_at,
        "csat": None,
        "assignee_id": ticket.assignee_id,
        "follow_up_of": opened.follow_up_of,
        "created_at": opened.created_at,
        "erased_at": None,
    }


async def callbacks_following(session: AsyncSession, complaint_ids: Collection[str]) -> set[str]:
    """Which of these complaint ticket ids already have their callback."""
    found = await session.scalars(
        select(tickets.c.follow_up_of).where(tickets.c.follow_up_of.in_(sorted(complaint_ids)))
    )
    return {complaint_id for complaint_id in found if complaint_id is not None}
