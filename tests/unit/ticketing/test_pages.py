"""Ticket lists and the queue are cursor pages: a page boundary never skips or repeats a
ticket, even among tickets equal in every column but the id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    async with service_harness("ticketing", tmp_path, clock=FixedClock(T0)) as harness:
        yield harness


async def open_(svc: ServiceHarness, customer_id: str, **extra: Any) -> str:
    body = {"customer_id": customer_id, "kind": "inquiry", "category": "size", "subject": "x"}
    response = await svc.client.post("/v1/tickets", json={**body, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]  # type: ignore[no-any-return]


async def every_page(svc: ServiceHarness, path: str, limit: int, **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await svc.client.get(path, params=query)
        assert response.status_code == 200, response.text
        pages.append([t["id"] for t in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages


async def test_tied_tickets_page_by_id_in_the_queue_and_in_the_list(svc):
    customer_id = new_id("c")
    ids = sorted([await open_(svc, customer_id) for _ in range(5)])

    queue = await every_page(svc, "/v1/queue", 2)
    listed = await every_page(svc, "/v1/tickets", 2, customer_id=customer_id)

    assert queue == [ids[0:2], ids[2:4], ids[4:]]
    assert listed == [ids[0:2], ids[2:4], ids[4:]]


async def test_the_list_is_newest_first_across_pages(svc):
    customer_id = new_id("c")
    opened = [
        await open_(svc, customer_id, opened_at=(T0 - timedelta(hours=h)).isoformat())
        for h in (5, 1, 3, 2, 4)
    ]

    pages = await every_page(svc, "/v1/tickets", 2, customer_id=customer_id)

    newest_first = [opened[i] for i in (1, 3, 2, 4, 0)]
    assert [ticket for page in pages for ticket in page] == newest_first
    assert [len(page) for page in pages] == [2, 2, 1]


async def test_a_page_that_ends_the_list_has_no_cursor(svc):
    customer_id = new_id("c")
    await open_(svc, customer_id)
    await open_(svc, customer_id)

    page = (await svc.client.get("/v1/queue", params={"limit": 2})).json()

    assert (len(page["items"]), page["next_cursor"], page["total"]) == (2, None, 2)


async def test_a_cursor_of_another_list_is_a_422_naming_the_cursor(svc):
    customer_id = new_id("c")
    for _ in range(2):
        await open_(svc, customer_id)
    list_cursor = (await svc.client.get("/v1/tickets", params={"limit": 1})).json()
    queue_cursor = (await svc.client.get("/v1/queue", params={"limit": 1})).json()

    for path, cursor in [
        ("/v1/queue", list_cursor["next_cursor"]),
        ("/v1/tickets", queue_cursor["next_cursor"]),
        ("/v1/queue", "bm90IGEgY3Vyc29y"),
        ("/v1/tickets", "%%%"),
    ]:
        response = await svc.client.get(path, params={"cursor": cursor})
        assert response.status_code == 422, (path, cursor, response.text)
        fields = response.json()["error"]["fields"]
        assert [(f["field"], f["location"]) for f in fields] == [("query.cursor", "query")]


async def test_an_opened_at_in_the_future_is_a_422_naming_it(svc):
    future = (T0 + timedelta(seconds=1)).isoformat()
    body = {"customer_id": new_id("c"), "kind": "inquiry", "category": "size", "subject": "x"}

    response = await svc.client.post("/v1/tickets", json={**body, "opened_at": future})

    assert response.status_code == 422
    assert [f["field"] for f in response.json()["error"]["fields"]] == ["opened_at"]
    assert await svc.published() == []
