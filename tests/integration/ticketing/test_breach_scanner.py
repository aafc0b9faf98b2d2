"""The SLA breach scanner, driven by an injected clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from services.ticketing.tasks import breach_scan_task
from shared.clock import FixedClock
from shared.transaction import Transaction
from tests.integration.ticketing.helpers import (
    add_agent,
    at,
    get_ticket,
    metric_value,
    open_ticket,
    published,
)
from tests.support.builders import tier_changed
from tests.support.events import new_id, publish
from tests.support.polling import eventually

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def breaches(exposition: str, tier: str) -> float:
    return metric_value(exposition, "loopcrm_sla_breaches_total", tier=tier)


async def test_a_missed_sla_is_breached_once_escalated_and_handed_to_a_senior(broker, service):
    clock = FixedClock(T0)
    prefix = new_id("a")
    bronze_customer, gold_customer, answered_customer = new_id("c"), new_id("c"), new_id("c")
    async with service("ticketing", clock=clock, tasks_enabled=False) as ticketing:
        client, runtime = ticketing.client, ticketing.runtime
        scan = breach_scan_task(runtime.context)
        junior = await add_agent(client, f"{prefix}-1-junior", "logistics")
        senior = await add_agent(client, f"{prefix}-2-senior", "logistics", senior=True)
        await publish(broker.bootstrap, tier_changed(gold_customer, new_tier="gold", at=T0))
        await eventually(
            lambda: client.get(f"/v1/customers/{gold_customer}/tier"),
            lambda r: r.json()["tier"] == "gold",
        )
        bronze = await open_ticket(client, bronze_customer)
        gold = await open_ticket(client, gold_customer)
        answered = await open_ticket(client, answered_customer)
        assert bronze["assignee"] == junior["agent_id"]
        assert gold["assignee"] == senior["agent_id"]
        response = await client.post(
            f"/v1/tickets/{answered['id']}/responses", json={"body": "On it."}
        )
        assert response.status_code == 201

        clock.advance(timedelta(hours=4))  # due, not yet past due
        await runtime.run_task_once(scan)
        assert (await get_ticket(client, gold["id"]))["sla_breached_at"] is None

        clock.advance(timedelta(hours=21))
        await runtime.run_task_once(scan)
        await runtime.run_task_once(scan)

        escalated = await get_ticket(client, bronze["id"])
        assert escalated["priority"] == "P2"
        assert at(escalated["sla_breached_at"]) == T0 + timedelta(hours=25)
        assert escalated["assignee"] == senior["agent_id"]
        assert [
            (h["reason"], h["old_priority"], h["new_priority"]) for h in escalated["history"]
        ] == [("sla.breached", "P3", "P2")]
        gold_now = await get_ticket(client, gold["id"])
        assert (gold_now["priority"], gold_now["assignee"]) == ("P2", senior["agent_id"])
        assert at(gold_now["sla_breached_at"]) == T0 + timedelta(hours=25)
        assert (await get_ticket(client, answered["id"]))["sla_breached_at"] is None

        breached = await published(
            broker.bootstrap, "sla.breached", lambda e: True, expect=2, settle=1.0
        )
        assert sorted((e["data"]["ticket_id"], e["data"]["tier"]) for e in breached) == sorted(
            [(bronze["id"], "bronze"), (gold["id"], "gold")]
        )
        by_id = {e["data"]["ticket_id"]: e["data"] for e in breached}
        assert by_id[bronze["id"]]["priority"] == "P3"
        assert at(by_id[bronze["id"]]["response_due_at"]) == T0 + timedelta(hours=24)
        escalations = await published(
            broker.bootstrap,
            "ticket.prioritized",
            lambda e: e["data"]["reason"] == "sla.breached",
            expect=2,
        )
        assert sorted(e["data"]["ticket_id"] for e in escalations) == sorted(
            [bronze["id"], gold["id"]]
        )

        page = (await client.get("/metrics")).text
        assert breaches(page, "bronze") == 1
        assert breaches(page, "gold") == 1
        assert breaches(page, "silver") == 0


async def test_a_scan_that_fails_counts_nothing(service):
    clock = FixedClock(T0)
    async with service(
        "ticketing", clock=clock, tasks_enabled=False, consumers_enabled=False
    ) as ticketing:
        await open_ticket(ticketing.client, new_id("c"))
        clock.advance(timedelta(days=2))
        scan = breach_scan_task(ticketing.runtime.context)

        class Boom(Exception):
            pass

        @asynccontextmanager
        async def failing_commit() -> AsyncIterator[Transaction]:
            async with ticketing.runtime.transaction(clock.now()) as tx:
                yield tx
                raise Boom

        with pytest.raises(Boom):
            await scan.run(failing_commit, clock.now())
        page = (await ticketing.client.get("/metrics")).text
        assert breaches(page, "bronze") == 0

        await ticketing.runtime.run_task_once(scan)
        page = (await ticketing.client.get("/metrics")).text
        assert breaches(page, "bronze") == 1
