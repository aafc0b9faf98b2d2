"""SLA policy as data, agents and dispatch, erasure and the return-reason report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.ticketing.helpers import add_agent, at, get_ticket, handled, open_ticket
from tests.support.builders import customer_erased, order_refunded, tier_changed
from tests.support.events import new_id, publish

QUIET = {"tasks_enabled": False, "consumers_enabled": False}
READER_KEY = "reader-key-0123456789"
WRITER_KEY = "writer-key-0123456789"
KEYS = [
    {"key": READER_KEY, "scopes": ["ticketing:read"], "name": "reader"},
    {"key": WRITER_KEY, "scopes": ["ticketing:read", "ticketing:write"], "name": "writer"},
]


async def test_a_new_policy_applies_to_tickets_prioritised_from_then_on(service):
    policy = {
        "first_response_hours": {"bronze": 12, "silver": 8, "gold": 2, "platinum": 1},
        "complaint_priority": {"bronze": "P1", "silver": "P1", "gold": "P1", "platinum": "P1"},
        "other_priority": "P4",
    }
    async with service("ticketing", api_keys=KEYS, **QUIET) as ticketing:
        client = ticketing.client
        before = await open_ticket(client, new_id("c"))

        refused = await client.put(
            "/v1/sla-policy", json=policy, headers={"Authorization": f"Bearer {WRITER_KEY}"}
        )
        assert refused.status_code == 403
        put = await client.put("/v1/sla-policy", json=policy)
        assert put.status_code == 200, put.text
        assert (put.json()["version"], put.json()["changed_by"]) == (1, "dev")

        current = await client.get(
            "/v1/sla-policy", headers={"Authorization": f"Bearer {READER_KEY}"}
        )
        assert current.json()["first_response_hours"]["bronze"] == 12
        assert current.json()["other_priority"] == "P4"

        after = await open_ticket(client, new_id("c"))
        complaint = await open_ticket(client, new_id("c"), kind="complaint")
        assert after["priority"] == "P4"
        assert at(after["response_due_at"]) == at(after["opened_at"]) + timedelta(hours=12)
        assert complaint["priority"] == "P1"
        unchanged = await get_ticket(client, before["id"])
        assert (unchanged["priority"], unchanged["response_due_at"]) == (
            before["priority"],
            before["response_due_at"],
        )


async def test_dispatch_by_skill_load_and_seniority(broker, service):
    prefix = new_id("a")
    async with service("ticketing", tasks_enabled=False) as ticketing:
        client = ticketing.client
        one = await add_agent(client, f"{prefix}-1", "logistics")
        two = await add_agent(client, f"{prefix}-2", "logistics", "quality")
        senior = await add_agent(client, f"{prefix}-3", "quality", senior=True)

        first = await open_ticket(client, new_id("c"))
        second = await open_ticket(client, new_id("c"))
        assert (first["assignee"], second["assignee"]) == (one["agent_id"], two["agent_id"])

        vip = new_id("c")
        await publish(
            broker.bootstrap, tier_changed(vip, new_tier="platinum", at=datetime.now(UTC))
        )
        await handled(client, "tier.changed", 1)
        vip_logistics = await open_ticket(client, vip)
        vip_quality = await open_ticket(client, vip, category="quality")
        assert vip_logistics["assignee"] is None  # no senior has the logistics skill
        assert vip_quality["assignee"] == senior["agent_id"]

        agents = {a["agent_id"]: a for a in (await client.get("/v1/agents")).json()}
        assert agents[one["agent_id"]]["open_tickets"] == 1

        patched = await client.patch(f"/v1/agents/{one['agent_id']}", json={"active": False})
        assert (patched.status_code, patched.json()["open_tickets"]) == (200, 0)
        assert (await get_ticket(client, first["id"]))["assignee"] == two["agent_id"]
        third = await open_ticket(client, new_id("c"))
        assert third["assignee"] == two["agent_id"]

        await client.patch(f"/v1/agents/{senior['agent_id']}", json={"skills": ["logistics"]})
        upgraded = await open_ticket(client, vip)
        assert upgraded["assignee"] == senior["agent_id"]


async def test_erasure_and_return_reasons(broker, service):
    customer_id, other_id = new_id("c"), new_id("c")
    async with service("ticketing", tasks_enabled=False) as ticketing:
        client = ticketing.client
        ticket = await open_ticket(client, customer_id, description="My phone is 13800138000")
        await client.post(f"/v1/tickets/{ticket['id']}/responses", json={"body": "Call you"})
        kept = await open_ticket(client, other_id)
        now = datetime.now(UTC)
        refunds = [
            _refund(customer_id, "size_mismatch", "100.10", now),
            _refund(customer_id, "size_mismatch", "50.00", now),
            _refund(other_id, "quality_defect", "1299.00", now - timedelta(days=40)),
        ]
        erased = customer_erased(customer_id, erased_at=now, at=now)
        await publish(broker.bootstrap, *refunds, erased)
        await handled(client, "customer.erased", 1)
        await handled(client, "order.refunded", 3)

        gone = await get_ticket(client, ticket["id"])
        assert (gone["subject"], gone["description"], gone["erased"]) == (None, None, True)
        responses = (await client.get(f"/v1/tickets/{ticket['id']}/responses")).json()
        assert [r["body"] for r in responses] == [None]
        assert (await get_ticket(client, kept["id"]))["subject"] == "Help"

        report = (await client.get("/v1/reports/return-reasons")).json()
        assert (report["total_refunds"], report["total_amount"]) == (3, "1449.10")
        top = report["reasons"][0]
        assert (top["reason"], top["refunds"], top["amount"]) == ("size_mismatch", 2, "150.10")
        assert len(report["reasons"]) == 6
        recent = await client.get(
            "/v1/reports/return-reasons",
            params={"since": (now - timedelta(days=30)).isoformat()},
        )
        assert recent.json()["total_refunds"] == 2


def _refund(customer_id: str, reason: str, amount: str, time: datetime) -> dict:
    return order_refunded(customer_id, new_id("o"), amount=amount, reason=reason, at=time)
