"""The complaint loop in ticketing, over the real broker: publish, consume, reprioritise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.ticketing.helpers import (
    add_agent,
    at,
    get_ticket,
    handled,
    open_ticket,
    published,
)
from tests.support.builders import complaint_opened, tier_changed
from tests.support.events import new_id, publish
from tests.support.polling import eventually

QUIET = {"tasks_enabled": False}


async def test_opening_a_complaint_puts_ticket_opened_and_complaint_opened_on_the_broker(
    broker, service
):
    customer_id = new_id("c")
    async with service("ticketing", consumers_enabled=False, **QUIET) as ticketing:
        complaint = await open_ticket(ticketing.client, customer_id, kind="complaint")

        def of_complaint(event: dict) -> bool:
            return event["data"]["ticket_id"] == complaint["id"]

        opened = await published(broker.bootstrap, "ticket.opened", of_complaint)
        complained = await published(broker.bootstrap, "complaint.opened", of_complaint)

    assert opened[0]["source"] == "loopcrm/ticketing"
    assert opened[0]["subject"] == customer_id
    assert opened[0]["data"]["kind"] == "complaint"
    assert opened[0]["data"]["priority"] == "P2"
    assert complained[0]["data"]["category"] == "logistics"
    assert at(complained[0]["data"]["opened_at"]) == at(complaint["opened_at"])
    assert at(complained[0]["time"]) == at(complaint["opened_at"])


@pytest.mark.parametrize(
    ("tier", "priority", "hours"),
    [("gold", "P1", 4), ("bronze", "P2", 24)],
)
async def test_a_complaint_reprioritises_the_customers_open_tickets_by_tier(
    broker, service, tier, priority, hours
):
    customer_id, other_customer = new_id("c"), new_id("c")
    prefix = new_id("a")
    async with service("ticketing", **QUIET) as ticketing:
        client = ticketing.client
        await add_agent(client, f"{prefix}-1-junior", "logistics")
        senior = await add_agent(client, f"{prefix}-2-senior", "logistics", senior=True)
        three_days_ago = datetime.now(UTC) - timedelta(days=3)
        older_bronze = await open_ticket(
            client, other_customer, opened_at=three_days_ago.isoformat()
        )
        if tier != "bronze":
            await publish(
                broker.bootstrap, tier_changed(customer_id, new_tier=tier, at=datetime.now(UTC))
            )
            await eventually(
                lambda: client.get(f"/v1/customers/{customer_id}/tier"),
                lambda r: r.json()["tier"] == tier,
            )
        inquiry = await open_ticket(client, customer_id)
        assert inquiry["priority"] == "P3"

        complaint = await open_ticket(client, customer_id, kind="complaint")
        complaint_time = at(complaint["opened_at"])

        raised = await eventually(
            lambda: get_ticket(client, inquiry["id"]),
            lambda t: t["priority"] == priority,
            timeout=5,
        )
        assert at(raised["response_due_at"]) <= complaint_time + timedelta(hours=hours)
        assert [(h["reason"], h["old_priority"], h["new_priority"]) for h in raised["history"]] == [
            ("complaint.opened", "P3", priority)
        ]
        prioritized = await published(
            broker.bootstrap,
            "ticket.prioritized",
            lambda e: e["data"]["ticket_id"] == inquiry["id"],
        )
        assert prioritized[0]["data"]["new_priority"] == priority
        assert prioritized[0]["data"]["reason"] == "complaint.opened"
        assert prioritized[0]["data"]["tier"] == tier

        listed = await eventually(
            lambda: client.get("/v1/tickets", params={"customer_id": customer_id}),
            lambda r: r.json()["total"] == 3,
        )
        callback = next(t for t in listed.json()["items"] if t["kind"] == "callback")
        assert callback["follow_up_of"] == complaint["id"]
        assert callback["assignee"] == senior["agent_id"]
        assert callback["priority"] == priority

        queue = (await client.get("/v1/queue")).json()["items"]
        order = [t["id"] for t in queue]
        assert order[-1] == older_bronze["id"]
        assert {t["customer_id"] for t in queue[:-1]} == {customer_id}


async def test_a_complaint_from_another_source_with_an_unknown_ticket_still_reprioritises(
    broker, service
):
    customer_id = new_id("c")
    async with service("ticketing", **QUIET) as ticketing:
        client = ticketing.client
        inquiry = await open_ticket(client, customer_id)
        complaint_time = datetime.now(UTC)
        legacy_ticket = new_id("legacy")
        reported = complaint_opened(
            customer_id, at=complaint_time, ticket_id=legacy_ticket, source="helpdesk"
        )
        reported_again = {**reported, "id": new_id("evt")}
        await publish(broker.bootstrap, reported, reported_again)

        raised = await eventually(
            lambda: get_ticket(client, inquiry["id"]), lambda t: t["priority"] == "P2", timeout=5
        )
        assert at(raised["response_due_at"]) <= complaint_time + timedelta(hours=24)

        await handled(client, "complaint.opened", 2)
        listed = (await client.get("/v1/tickets", params={"customer_id": customer_id})).json()
        follow_ups = [t for t in listed["items"] if t["kind"] == "callback"]
        assert [t["follow_up_of"] for t in follow_ups] == [legacy_ticket]
        assert follow_ups[0]["assignee"] is None  # no senior agent exists: waits in the queue
        prioritized = await published(
            broker.bootstrap, "ticket.prioritized", lambda e: e["subject"] == customer_id
        )
        assert [e["data"]["ticket_id"] for e in prioritized] == [inquiry["id"]]


async def test_tier_changed_pulls_due_times_forward_and_a_stale_one_is_ignored(broker, service):
    customer_id = new_id("c")
    async with service("ticketing", **QUIET) as ticketing:
        client = ticketing.client
        inquiry = await open_ticket(client, customer_id)
        upgraded_at = datetime.now(UTC)
        stale = tier_changed(
            customer_id, new_tier="bronze", old_tier="silver", at=upgraded_at - timedelta(hours=1)
        )
        await publish(
            broker.bootstrap, tier_changed(customer_id, new_tier="platinum", at=upgraded_at), stale
        )

        updated = await eventually(
            lambda: get_ticket(client, inquiry["id"]), lambda t: t["tier"] == "platinum"
        )
        assert updated["priority"] == "P3"  # an inquiry keeps its priority
        assert at(updated["response_due_at"]) == upgraded_at + timedelta(hours=4)
        assert updated["history"][0]["reason"] == "tier.changed"
        await published(
            broker.bootstrap,
            "ticket.prioritized",
            lambda e: (
                e["data"]["ticket_id"] == inquiry["id"] and e["data"]["reason"] == "tier.changed"
            ),
        )
        await handled(client, "tier.changed", 2)
        tier = (await client.get(f"/v1/customers/{customer_id}/tier")).json()
        assert (tier["tier"], at(tier["changed_at"])) == ("platinum", upgraded_at)
        assert len((await get_ticket(client, inquiry["id"]))["history"]) == 1
        # The next ticket is opened at the tier learned: platinum, 4 hours.
        later = await open_ticket(client, customer_id, kind="complaint")
        assert (later["tier"], later["priority"]) == ("platinum", "P1")
