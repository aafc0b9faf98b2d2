"""GET /v1/customers?tag= (paginated), GET /v1/tags, and the 422 cases."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.profile.helpers import T0, customer_when, tier_changed
from tests.support.events import new_id, publish


async def test_customers_by_tag_page_through_in_id_order(broker, service):
    vips = sorted(new_id("c") for _ in range(3))
    silver = new_id("c")
    events = [
        tier_changed(c, "silver", "gold", T0 + timedelta(minutes=n)) for n, c in enumerate(vips)
    ]
    events.append(tier_changed(silver, "bronze", "silver", T0))
    async with service("profile") as profile:
        await publish(broker.bootstrap, *events)
        for customer_id in [*vips, silver]:
            await customer_when(profile.client, customer_id, lambda c: c["tier"] is not None)

        first = (
            await profile.client.get("/v1/customers", params={"tag": "vip", "limit": 2})
        ).json()
        assert [item["customer_id"] for item in first["items"]] == vips[:2]
        assert first["tag"] == "vip"
        assert first["next_cursor"]
        assert first["items"][0]["tier"] == "gold"
        assert "vip" in first["items"][0]["tags"]
        assert "name" not in first["items"][0]

        second = (
            await profile.client.get(
                "/v1/customers", params={"tag": "vip", "limit": 2, "cursor": first["next_cursor"]}
            )
        ).json()
        assert [item["customer_id"] for item in second["items"]] == vips[2:]
        assert second["next_cursor"] is None

        everyone = (await profile.client.get("/v1/customers", params={"limit": 500})).json()
        assert {item["customer_id"] for item in everyone["items"]} == {*vips, silver}

        catalogue = (await profile.client.get("/v1/tags")).json()
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


async def test_bad_listing_input_is_422_naming_the_field(broker, service):
    async with service("profile") as profile:
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
