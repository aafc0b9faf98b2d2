"""What the ticketing integration tests share: API calls and reading the broker."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.events import read_topic
from tests.support.polling import eventually

HOURS = 3600


async def open_ticket(
    client: httpx.AsyncClient,
    customer_id: str,
    kind: str = "inquiry",
    category: str = "logistics",
    **extra: Any,
) -> dict[str, Any]:
    body = {"customer_id": customer_id, "kind": kind, "category": category, "subject": "Help"}
    response = await client.post("/v1/tickets", json={**body, **extra})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def add_agent(
    client: httpx.AsyncClient, agent_id: str, *skills: str, senior: bool = False
) -> dict[str, Any]:
    body = {"agent_id": agent_id, "name": f"Agent {agent_id}", "skills": list(skills)}
    response = await client.post("/v1/agents", json={**body, "senior": senior})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def get_ticket(client: httpx.AsyncClient, ticket_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def published(
    bootstrap: str,
    topic: str,
    matching: Callable[[dict[str, Any]], bool],
    *,
    expect: int = 1,
    settle: float = 0.0,
) -> list[dict[str, Any]]:
    """The events on `topic` that match, once at least `expect` of them are there. With
    `settle`, keeps reading that long to catch any extra ones."""

    async def matches() -> list[dict[str, Any]]:
        records = await read_topic(bootstrap, topic, expect=10_000, timeout=settle or 0.3)
        events = [json.loads(record.value) for record in records]
        return [event for event in events if matching(event)]

    return await eventually(matches, lambda found: len(found) >= expect, timeout=10)


def metric_value(exposition: str, sample: str, **labels: str) -> float:
    """The value of one sample in a /metrics page (0 when the series is absent)."""
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == sample and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


async def handled(client: httpx.AsyncClient, topic: str, count: int) -> None:
    """Wait until the service has handled `count` events of `topic`."""

    async def value() -> float:
        page = (await client.get("/metrics")).text
        return metric_value(page, "loopcrm_events_consumed_total", topic=topic, outcome="handled")

    await eventually(value, lambda seen: seen >= count)
