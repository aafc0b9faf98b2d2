"""GET /v1/customers?tag= (cursor pages), GET /v1/tags, and the 422 cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
async def profile(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    async with service_harness(
        "profile", tmp_path, clock=FixedClock(T0 + timedelta(days=1))
    ) as svc:
        yield svc


async def test_customers_by_tag_page_through_in_id_order(profile: ServiceHarness) -> None:
    vips = sorted(new_id("c") for _ in range(3))
    silver = new_id("c")
    events = [
        builders.tier_changed(c, old_tier="silver", new_tier="gold", at=T0 + timedelta(minutes=n))
        for n, c in enumerate(vips)
    ]
    events.append(builders.tier_changed(silver, old_tier="bronze", new_tier="silver", at=T0))
    assert set(await profile.deliver_each(*events)) == {"handled"}
    client = profile.client

    first = (await client.get("/v1/customers", params={"tag": "vip", "limit": 2})).json()
    assert [item["customer_id"] for item in first["items"]] == vips[:2]
    assert first["tag"] == "vip"
    assert first["next_cursor"]
    assert first["items"][0]["tier"] == "gold"
    assert "vip" in first["items"][0]["tags"]
    assert "name" not in first["items"][0]

    second = (
        await client.get(
            "/v1/customers", params={"tag": "vip", "limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [item["customer_id"] for item in second["items"]] == vips[2:]
    assert second["next_cursor"] is None

    everyone = (await client.get("/v1/customers", params={"limit": 500})).json()
    assert {item["customer_id"] for item in everyone["items"]} == {*vips, silver}

    catalogue = (await client.get("/v1/tags")).json()
    assert len(catalogue) >= 50
    by_name = {tag["name"]: tag for tag in catalogue}
    assert by_name["vip"]["member_count"] == 3
    assert by_name["vip"]["group"] == "value"
    assert by_name["vip"]["rule"] == {
        "feature": "tier",
        "operator": "in",
        "threshold": ["gold", "platinum"],
        "window_days": None,
    }
    assert by_name["appliance_intent"]["member_count"] == 0
    assert by_name["appliance_intent"]["rule"]["threshold"] == 12
    assert "robot_vacuum" in by_name["appliance_intent"]["categories"]["smart_appliance"]
    assert by_name["frequent_returner"]["rule"]["any"][1]["threshold"] == "0.3"


async def test_bad_listing_input_is_422_naming_the_field(profile: ServiceHarness) -> None:
    client = profile.client
    unknown = await client.get("/v1/customers", params={"tag": "astronaut"})
    assert unknown.status_code == 422
    error = unknown.json()["error"]
    assert error["code"] == "invalid_request"
    assert [f["field"] for f in error["fields"]] == ["query.tag"]
    assert "astronaut" in error["fields"][0]["message"]

    cursor = await client.get("/v1/customers", params={"tag": "vip", "cursor": "garbage!"})
    assert cursor.status_code == 422
    assert [f["field"] for f in cursor.json()["error"]["fields"]] == ["query.cursor"]

    limit = await client.get("/v1/customers", params={"limit": 0})
    assert limit.status_code == 422
    assert [f["field"] for f in limit.json()["error"]["fields"]] == ["query.limit"]

    assert (await client.delete(f"/v1/customers/{new_id('nobody')}")).status_code == 404
