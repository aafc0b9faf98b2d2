"""Storefront events over the real broker become tags in the API and profile.tagged events on
the broker (handler behaviour in detail: tests/unit/profile)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support import builders
from tests.support.builders import new_id
from tests.support.events import publish, read_topic
from tests.support.polling import eventually

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


async def published(bootstrap: str, topic: str, customer_id: str, *, expect: int) -> list[Any]:
    """The envelopes on ``topic`` about ``customer_id``, once ``expect`` of them arrived."""

    async def probe() -> list[dict[str, Any]]:
        # Reads the whole topic each time: a fresh reader needs a moment to get its partitions.
        records = await read_topic(bootstrap, topic, expect=10_000, timeout=2.0)
        return [json.loads(r.value) for r in records if r.key == customer_id.encode()]

    return await eventually(probe, lambda found: len(found) >= expect, timeout=20.0)


async def test_twelve_appliance_views_tag_the_customer_and_announce_it(broker, service):
    customer_id = new_id("c")
    views = [
        builders.product_viewed(
            customer_id, sku=new_id("sku"), category="robot_vacuum", at=T0 + timedelta(minutes=n)
        )
        for n in range(12)
    ]
    async with service("profile") as profile:

        async def the_360() -> dict[str, Any]:
            response = await profile.client.get(f"/v1/customers/{customer_id}")
            return response.json() if response.status_code == 200 else {}

        registered = builders.customer_registered(customer_id, name="Li Wei", at=T0)
        await publish(broker.bootstrap, registered, *views[:11])
        eleven = await eventually(the_360, lambda c: bool(c) and c["activity"]["views_30d"] == 11)
        assert "appliance_intent" not in eleven["tags"]

        await publish(broker.bootstrap, views[11])
        twelve = await eventually(the_360, lambda c: "appliance_intent" in c["tags"])
        assert twelve["tags_as_of"].startswith((T0 + timedelta(minutes=11)).isoformat()[:19])

        # Five views made a browser who never bought; the twelfth made the intent.
        browsing, tagged = await published(
            broker.bootstrap, "profile.tagged", customer_id, expect=2
        )
        assert browsing["data"]["added"] == ["browsing_never_bought"]
        assert tagged["type"] == "profile.tagged"
        assert tagged["source"] == "loopcrm/profile"
        assert tagged["subject"] == customer_id
        assert tagged["data"]["added"] == ["appliance_intent"]
        assert tagged["data"]["removed"] == []
        assert tagged["data"]["tags"] == twelve["tags"]
        assert tagged["data"]["behaviour_tags"] == ["appliance_intent"]
