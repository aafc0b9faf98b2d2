"""Ticketing's handlers, commands and breach scan through the harness: state and published
events on a throwaway SQLite database, no broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.ticketing.models import Ticket
from services.ticketing.repository.tickets import state_of
from services.ticketing.rules.queue import in_work_order
from services.ticketing.tasks import BREACH_SCAN, escalate_overdue
from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
async def svc(tmp_path: Path, clock: FixedClock) -> AsyncIterator[ServiceHarness]:
    async with service_harness("ticketing", tmp_path, clock=clock) as harness:
        yield harness


async def open_(svc: ServiceHarness, customer_id: str, kind: str = "inquiry", **extra: Any):
    body = {"customer_id": customer_id, "kind": kind, "category": "logistics", "subject": "Late"}
    response = await svc.client.post("/v1/tickets", json={**body, **extra})
    assert response.status_code == 201, response.text
    return response.json()


async def ticket(svc: ServiceHarness, ticket_id: str) -> dict[str, Any]:
    response = await svc.client.get(f"/v1/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def published(svc: ServiceHarness, event_type: str) -> list[dict[str, Any]]:
    return [event.data for event in await svc.published(event_type)]


def complaint(customer_id: str, ticket_id: str, at: datetime) -> dict[str, Any]:
    return builders.complaint_opened(
        customer_id, ticket_id=ticket_id, category="logistics", at=at, source="helpdesk"
    )


def tier_changed(customer_id: str, new_tier: str, at: datetime) -> dict[str, Any]:
    return builders.tier_changed(customer_id, new_tier=new_tier, at=at)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_opening_a_complaint_writes_both_events_in_the_transaction(svc):
    opened = await open_(svc, new_id("c"), "complaint")

    assert [e["ticket_id"] for e in await published(svc, "ticket.opened")] == [opened["id"]]
    assert [e["ticket_id"] for e in await published(svc, "complaint.opened")] == [opened["id"]]
    assert (opened["priority"], at(opened["response_due_at"])) == ("P2", T0 + 24 * HOUR)


async def test_a_complaint_raises_open_tickets_and_opens_one_callback(svc):
    customer_id = new_id("c")
    senior = {"name": "Senior", "skills": ["quality"], "senior": True}
    assert (await svc.client.post("/v1/agents", json=senior)).status_code == 201
    inquiry = await open_(svc, customer_id)
    resolved = await open_(svc, customer_id, "return")
    assert (await svc.client.post(f"/v1/tickets/{resolved['id']}/resolve")).status_code == 200

    outcomes = await svc.deliver(
        complaint(customer_id, "legacy-1", T0 + HOUR), complaint(customer_id, "legacy-1", T0 + HOUR)
    )

    assert outcomes == ["handled", "handled"]
    inquiry, resolved = await ticket(svc, inquiry["id"]), await ticket(svc, resolved["id"])
    assert (inquiry["priority"], inquiry["history"][0]["reason"]) == ("P2", "complaint.opened")
    assert (resolved["priority"], resolved["history"]) == ("P3", [])
    prioritized = await published(svc, "ticket.prioritized")
    assert [(e["ticket_id"], e["new_priority"]) for e in prioritized] == [(inquiry["id"], "P2")]
    listed = (await svc.client.get("/v1/tickets", params={"customer_id": customer_id})).json()
    callbacks = [t for t in listed["items"] if t["kind"] == "callback"]
    assert [c["follow_up_of"] for c in callbacks] == ["legacy-1"]
    # No senior has the logistics skill: the callback goes to a senior all the same.
    assert callbacks[0]["assignee"] is not None
    assert (at(callbacks[0]["opened_at"]), callbacks[0]["priority"]) == (T0 + HOUR, "P2")
    # A callback is internal: no ticket.opened for it.
    assert len(await published(svc, "ticket.opened")) == 2


async def test_opening_a_complaint_raises_open_tickets_in_its_transaction(svc):
    customer_id = new_id("c")
    inquiry = await open_(svc, customer_id)

    opened = await open_(svc, customer_id, "complaint")

    raised = await ticket(svc, inquiry["id"])
    assert (raised["priority"], raised["history"][0]["reason"]) == ("P2", "complaint.opened")
    prioritized = await published(svc, "ticket.prioritized")
    assert [(e["ticket_id"], e["new_priority"]) for e in prioritized] == [(inquiry["id"], "P2")]
    listed = (await svc.client.get("/v1/tickets", params={"customer_id": customer_id})).json()
    assert [t["follow_up_of"] for t in listed["items"] if t["kind"] == "callback"] == [opened["id"]]

    # Our own complaint.opened comes back through the broker and finds its work done.
    [returned] = await svc.published("complaint.opened")
    assert await svc.deliver(returned.model_dump(mode="json")) == ["handled"]
    assert len(await published(svc, "ticket.prioritized")) == 1
    again = (await svc.client.get("/v1/tickets", params={"customer_id": customer_id})).json()
    assert again["total"] == listed["total"] == 3


async def test_a_stale_tier_change_is_ignored(svc):
    customer_id = new_id("c")
    inquiry = await open_(svc, customer_id)

    await svc.deliver(tier_changed(customer_id, "gold", T0 + 2 * HOUR))
    await svc.deliver(tier_changed(customer_id, "silver", T0 + HOUR))

    inquiry = await ticket(svc, inquiry["id"])
    assert (inquiry["tier"], at(inquiry["response_due_at"])) == ("gold", T0 + 6 * HOUR)
    later = await open_(svc, customer_id, "complaint")
    assert (later["tier"], later["priority"]) == ("gold", "P1")


async def test_the_breach_scan_escalates_each_ticket_once(svc, clock):
    customer_id = new_id("c")
    inquiry = await open_(svc, customer_id)
    answered = await open_(svc, customer_id)
    clock.advance(HOUR)
    answer = await svc.client.post(f"/v1/tickets/{answered['id']}/responses", json={"body": "Hi"})
    assert answer.status_code == 201

    async with svc.transaction(T0 + 25 * HOUR) as tx:
        first = await escalate_overdue(tx)
    async with svc.transaction(T0 + 26 * HOUR) as tx:
        second = await escalate_overdue(tx)

    assert (dict(first), dict(second)) == ({"bronze": 1}, {})
    inquiry = await ticket(svc, inquiry["id"])
    assert (inquiry["priority"], at(inquiry["sla_breached_at"])) == ("P2", T0 + 25 * HOUR)
    assert (await ticket(svc, answered["id"]))["sla_breached_at"] is None
    assert [e["ticket_id"] for e in await published(svc, "sla.breached")] == [inquiry["id"]]


async def test_the_breach_scan_task_counts_what_it_committed(svc, clock):
    await open_(svc, new_id("c"))
    clock.advance(25 * HOUR)

    await svc.run_task(BREACH_SCAN)
    await svc.run_task(BREACH_SCAN)

    registry = svc.runtime.metrics.registry
    assert registry.get_sample_value("loopcrm_sla_breaches_total", {"tier": "bronze"}) == 1
    assert len(await svc.published("sla.breached")) == 1


async def test_the_queue_pages_in_the_order_of_the_rules(svc):
    bronze, gold = new_id("c"), new_id("c")
    await svc.deliver(tier_changed(gold, "gold", T0 - 48 * HOUR))
    opened = [
        await open_(svc, bronze, opened_at=(T0 - 72 * HOUR).isoformat()),
        await open_(svc, bronze, "complaint", opened_at=(T0 - 10 * HOUR).isoformat()),
        await open_(svc, gold, opened_at=(T0 - HOUR).isoformat()),
        await open_(svc, gold, "complaint", opened_at=(T0 - 2 * HOUR).isoformat()),
        await open_(svc, bronze, "repair", opened_at=(T0 - 72 * HOUR).isoformat()),
    ]

    page = (await svc.client.get("/v1/queue", params={"limit": 4})).json()
    rest = (
        await svc.client.get("/v1/queue", params={"limit": 4, "cursor": page["next_cursor"]})
    ).json()

    async with svc.transaction() as tx:
        # The two complaints raised their customers' tickets and opened a callback each.
        rows = (
            await tx.session.scalars(select(Ticket).where(Ticket.customer_id.in_([bronze, gold])))
        ).all()
        expected = [state.id for state in in_work_order(state_of(r) for r in rows)]
    assert {t["id"] for t in opened} < set(expected)
    assert (page["total"], rest["next_cursor"]) == (7, None)
    assert [t["id"] for t in [*page["items"], *rest["items"]]] == expected
