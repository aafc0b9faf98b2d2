"""Agent reads, with the open tickets each holds (kept on its row); and the public shape of
an agent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import Agent
from services.ticketing.schemas import AgentPublic
from shared.errors import NotFound


async def list_agents(session: AsyncSession) -> list[AgentPublic]:
    agents = (await session.scalars(select(Agent).order_by(Agent.agent_id))).all()
    return [agent_public(agent) for agent in agents]


async def get_agent(session: AsyncSession, agent_id: str) -> AgentPublic:
    return agent_public(await agent_row(session, agent_id))


async def agent_row(session: AsyncSession, agent_id: str) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    return agent


def agent_public(agent: Agent) -> AgentPublic:
    return AgentPublic.model_validate(
        {
            "agent_id": agent.agent_id,
            "name": agent.name,
            "skills": agent.skills,
            "senior": agent.senior,
            "active": agent.active,
            "open_tickets": agent.open_tickets,
        }
    )
