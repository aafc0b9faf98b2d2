"""Agents and their open loads, as dispatch sees them. Each agent's load is a count kept on
its row (`agents.open_tickets`), moved by whatever assigns, moves or resolves a ticket."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing import models
from services.ticketing.rules.dispatch import Agent, Staff
from services.ticketing.rules.values import TicketCategory

agents = cast(Table, models.Agent.__table__)

_MOVE_LOAD = (
    update(agents)
    .where(agents.c.agent_id == bindparam("moved_agent"))
    .values(open_tickets=agents.c.open_tickets + bindparam("delta"))
)


async def staff(session: AsyncSession) -> Staff:
    """Every agent on record with their open loads: one read of the agents."""
    rows = (
        await session.execute(
            select(
                agents.c.agent_id,
                agents.c.skills,
                agents.c.senior,
                agents.c.active,
                agents.c.open_tickets,
            )
        )
    ).all()
    return Staff(
        tuple(
            Agent(
                id=agent_id,
                skills=frozenset(TicketCategory(skill) for skill in skills),
                senior=senior,
                active=active,
            )
            for agent_id, skills, senior, active, _load in rows
        ),
        {agent_id: load for agent_id, _s, _senior, _active, load in rows if load},
    )


class LoadMoves:
    """How agents' open loads move in one transaction, written at its end as one statement
    (an increment per agent, in agent order, so concurrent writers lock rows alike)."""

    def __init__(self) -> None:
        self._deltas: Counter[str] = Counter()

    def moved(self, old_assignee: str | None, new_assignee: str | None) -> None:
        """An open ticket moved from `old_assignee` to `new_assignee`; None is the queue (a
        new ticket comes from it, a resolved one goes to it)."""
        if old_assignee == new_assignee:
            return
        if old_assignee is not None:
            self._deltas[old_assignee] -= 1
        if new_assignee is not None:
            self._deltas[new_assignee] += 1

    async def save(self, session: AsyncSession) -> None:
        await move_loads(session, self._deltas)
        self._deltas.clear()


async def move_loads(session: AsyncSession, deltas: Mapping[str, int]) -> None:
    moves = [
        {"moved_agent": agent_id, "delta": delta}
        for agent_id, delta in sorted(deltas.items())
        if delta
    ]
    if moves:
        with session.no_autoflush:
            await session.connection()
            await session.execute(_MOVE_LOAD, moves)


class StaffOfRun:
    """Dispatch's view for one run of events: read on first need, then carried in memory
    with every move, so each decision sees the loads the earlier ones left, as it would with
    one event per transaction; the moves are written with the run."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._staff: Staff | None = None
        self._moves = LoadMoves()

    async def get(self) -> Staff:
        if self._staff is None:
            self._staff = await staff(self._session)
        return self._staff

    def moved(self, old_assignee: str | None, new_assignee: str | None) -> None:
        """An open ticket moved (or a new one was assigned: `old_assignee` None)."""
        if old_assignee == new_assignee:
            return
        if self._staff is None:
            raise RuntimeError("a ticket moved before dispatch looked at the staff")
        self._staff = self._staff.reassigned(old_assignee, new_assignee)
        self._moves.moved(old_assignee, new_assignee)

    async def save(self) -> None:
        await self._moves.save(self._session)
