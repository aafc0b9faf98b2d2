"""Agent routes."""

from __future__ import annotations

from fastapi import APIRouter

from services.ticketing.api.deps import READ, WRITE
from services.ticketing.api.shapes import agent_public
from services.ticketing.handlers import agents as handlers
from services.ticketing.schemas import AgentCreate, AgentPublic, AgentUpdate
from shared.app import RuntimeDep

router = APIRouter(prefix="/v1", tags=["agents"])


@router.post("/agents", status_code=201, dependencies=[WRITE])
async def create_agent(body: AgentCreate, runtime: RuntimeDep) -> AgentPublic:
    """An agent with skills (ticket categories) and seniority. 409 if the id is taken."""
    async with runtime.transaction() as session:
        agent = await handlers.create_agent(session, body, now=runtime.clock.now())
        return agent_public(agent, open_tickets=0)


@router.get("/agents", dependencies=[READ])
async def list_agents(runtime: RuntimeDep) -> list[AgentPublic]:
    async with runtime.transaction() as session:
        agents = await handlers.list_agents(session)
        loads = await handlers.open_loads(session)
        return [agent_public(agent, loads.get(agent.agent_id, 0)) for agent in agents]


@router.get("/agents/{agent_id}", dependencies=[READ])
async def get_agent(agent_id: str, runtime: RuntimeDep) -> AgentPublic:
    async with runtime.transaction() as session:
        agent = await handlers.get_agent(session, agent_id)
        loads = await handlers.open_loads(session)
        return agent_public(agent, loads.get(agent_id, 0))


@router.patch("/agents/{agent_id}", dependencies=[WRITE])
async def update_agent(agent_id: str, body: AgentUpdate, runtime: RuntimeDep) -> AgentPublic:
    """Change name, skills, seniority or active; deactivating hands the agent's open tickets
    to others (or back to the queue)."""
    async with runtime.transaction() as session:
        agent = await handlers.update_agent(session, agent_id, body, now=runtime.clock.now())
        loads = await handlers.open_loads(session)
        return agent_public(agent, loads.get(agent_id, 0))
