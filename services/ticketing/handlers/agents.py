"""Agent commands and queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing import dispatching
from services.ticketing.models import Agent
from services.ticketing.schemas import AgentCreate, AgentUpdate
from shared.errors import Conflict, NotFound


async def create_agent(session: AsyncSession, command: AgentCreate, *, now: datetime) -> Agent:
    agent_id = command.agent_id or f"agt-{uuid.uuid4().hex[:16]}"
    if await session.get(Agent, agent_id) is not None:
        raise _exists(agent_id)
    agent = Agent(
        agent_id=agent_id,
        name=command.name,
        skills=sorted(set(command.skills)),
        senior=command.senior,
        active=command.active,
        created_at=now,
        updated_at=now,
    )
    session.add(agent)
    try:
        await session.flush()
    except IntegrityError as exc:  # created by a concurrent request
        raise _exists(agent_id) from exc
    return agent


async def get_agent(session: AsyncSession, agent_id: str) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    return agent


async def list_agents(session: AsyncSession) -> Sequence[Agent]:
    return (await session.scalars(select(Agent).order_by(Agent.agent_id))).all()


async def update_agent(
    session: AsyncSession, agent_id: str, command: AgentUpdate, *, now: datetime
) -> Agent:
    """Change what is given. Deactivating an agent hands their open tickets to others (or
    back to the queue when nobody fits)."""
    agent = await get_agent(session, agent_id)
    given = command.model_dump(exclude_unset=True)
    if "skills" in given:
        given["skills"] = sorted(set(given["skills"]))
    deactivated = agent.active and given.get("active") is False
    for field, value in given.items():
        setattr(agent, field, value)
    agent.updated_at = now
    if deactivated:
        await session.flush()
        await dispatching.release_tickets_of(session, agent_id)
    return agent


async def open_loads(session: AsyncSession) -> dict[str, int]:
    return await dispatching.open_loads(session)


def _exists(agent_id: str) -> Conflict:
    return Conflict("agent_exists", f"An agent with id {agent_id!r} exists.", agent_id=agent_id)
