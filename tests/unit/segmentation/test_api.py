"""The segmentation API: segment catalogue, paginated members, and its 401/404/422 answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def tagged(customer_id: str) -> dict:
    return builders.profile_tagged(customer_id, tags=["bargain_hunter"], at=T0)


async def all_members(client: httpx.AsyncClient, segment: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"/v1/segments/{segment}/members", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["customer_id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_segments_members_and_errors(tmp_path: Path) -> None:
    customers = sorted(new_id("c") for _ in range(5))
    async with service_harness("segmentation", tmp_path, clock=FixedClock(T0)) as segmentation:
        client = segmentation.client
        await segmentation.deliver(*[tagged(customer) for customer in customers])

        segments = (await client.get("/v1/segments")).json()
        assert next(s["member_count"] for s in segments if s["name"] == "prospect") == 5
        assert [s["name"] for s in segments][:3] == ["loyal", "potential", "new"]
        loyal = segments[0]
        assert loyal["conditions"] == ["recency_days < 15", "frequency >= 4", "monetary >= 500"]
        assert "frequency >= 4" in loyal["definition"] and loyal["precedence"] == 1

        assert await all_members(client, "prospect", limit=2) == [
            customers[0:2],
            customers[2:4],
            customers[4:5],
        ]
        empty = (await client.get("/v1/segments/loyal/members")).json()
        assert empty == {"segment": "loyal", "items": [], "next_cursor": None}

        unknown_customer = await client.get(f"/v1/customers/{new_id('c')}/segment")
        assert unknown_customer.status_code == 404
        unknown_segment = await client.get("/v1/segments/vips/members")
        assert unknown_segment.status_code == 404
        assert unknown_segment.json()["error"]["code"] == "not_found"

        for params, field in [
            ({"limit": 0}, "query.limit"),
            ({"limit": 501}, "query.limit"),
            ({"limit": "many"}, "query.limit"),
            ({"cursor": "not-a-cursor!"}, "query.cursor"),
        ]:
            response = await client.get("/v1/segments/prospect/members", params=params)
            assert response.status_code == 422, params
            assert [f["field"] for f in response.json()["error"]["fields"]] == [field]

        anonymous = await client.get("/v1/segments", headers={"Authorization": ""})
        assert anonymous.status_code == 401
