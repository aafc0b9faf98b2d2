"""Each agent's open load is kept on its row by every write that assigns, moves or resolves a
ticket; it always equals the open tickets assigned to the agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.ticketing.models import Ticket
from services.ticketing.tasks import BREACH_SCAN
from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def loads_match_tickets(svc: ServiceHarness) -> dict[str, int]:
    agents = (await svc.client.get("/v1/agents")).json()
    kept = {agent["agent_id"]: agent["open_tickets"] for agent in agents}
    async with svc.transaction() as tx:
        rows = await tx.session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.status == "open", Ticket.assignee_id.is_not(None))
            .group_by(Ticket.assignee_id)
        )
        counted = {agent_id: count for agent_id, count in rows}
    assert kept == {agent_id: counted.get(agent_id, 0) for agent_id in kept}
    return kept


async def test_every_write_keeps_agents_loads(tmp_path):
    clock = FixedClock(T0)
    bronze, gold = new_id("c"), new_id("c")
    async with service_harness("ticketing", tmp_path, clock=clock) as svc:
        client = svc.client
        for agent_id, senior in (("a-1", False), ("a-2", False), ("a-3", True), ("a-4", True)):
            body = {"agent_id": agent_id, "name": agent_id, "skills": ["logistics"]}
            assert (await client.post("/v1/agents", json={**body, "senior": senior})).is_success
        opened = []
        for customer_id, kind, category in [
            (bronze, "inquiry", "logistics"),
            (bronze, "repair", "logistics"),
            (gold, "inquiry", "logistics"),
            (bronze, "return", "quality"),  # nobody has the skill: it waits in the queue
        ]:
            body = {"customer_id": customer_id, "kind": kind, "category": category}
            response = await client.post("/v1/tickets", json={**body, "subject": "Help"})
            opened.append(response.json())
        await loads_match_tickets(svc)

        # A VIP tier moves the gold customer's ticket to a senior; complaints open callbacks.
        await svc.deliver(builders.tier_changed(gold, new_tier="gold", at=T0 + HOUR))
        await svc.deliver(
            builders.complaint_opened(bronze, ticket_id=new_id("k"), at=T0 + HOUR),
            builders.complaint_opened(gold, ticket_id=new_id("k"), at=T0 + HOUR),
        )
        await loads_match_tickets(svc)

        # Breaches go from the juniors to the least-loaded senior.
        clock.advance(48 * HOUR)
        await svc.run_task(BREACH_SCAN)
        assert (await loads_match_tickets(svc))["a-1"] == 0

        # Resolving frees the agent; answering an unassigned ticket takes it.
        resolved = await client.post(f"/v1/tickets/{opened[0]['id']}/resolve")
        assert resolved.status_code == 200
        await client.patch("/v1/agents/a-1", json={"active": False})
        await client.patch("/v1/agents/a-2", json={"active": False})
        answer = {"body": "On it", "agent_id": "a-3"}
        taken = await client.post(f"/v1/tickets/{opened[3]['id']}/responses", json=answer)
        assert taken.status_code == 201
        await loads_match_tickets(svc)

        loads = await loads_match_tickets(svc)

    assert loads["a-1"] == loads["a-2"] == 0
    # Open: repair, gold inquiry, the quality return (answered: not breached), 2 callbacks.
    assert loads["a-3"] + loads["a-4"] == 5


async def test_a_complaint_through_the_api_keeps_agents_loads(tmp_path):
    customer = new_id("c")
    async with service_harness("ticketing", tmp_path, clock=FixedClock(T0)) as svc:
        client = svc.client
        for agent_id, senior in (("a-1", False), ("a-2", True)):
            body = {"agent_id": agent_id, "name": agent_id, "skills": ["logistics"]}
            assert (await client.post("/v1/agents", json={**body, "senior": senior})).is_success
        body = {"customer_id": customer, "category": "logistics", "subject": "Help"}
        assert (await client.post("/v1/tickets", json={**body, "kind": "inquiry"})).is_success

        # The complaint, its callback and the raised inquiry share one view of the loads.
        response = await client.post("/v1/tickets", json={**body, "kind": "complaint"})
        assert response.status_code == 201
        loads = await loads_match_tickets(svc)
    assert sum(loads.values()) == 3
