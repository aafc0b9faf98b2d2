"""Storefront events over the real broker become tags in the API and profile.tagged events."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import FixedClock
from tests.integration.profile.helpers import (
    T0,
    customer_when,
    placed,
    published,
    refunded,
    registered,
    viewed,
)
from tests.support.events import new_id, publish


async def test_twelve_appliance_views_tag_the_customer_and_announce_it(broker, service):
    customer_id = new_id("c")
    views = [viewed(customer_id, T0 + timedelta(minutes=n)) for n in range(12)]
    async with service("profile") as profile:
        await publish(broker.bootstrap, registered(customer_id, name="Li Wei"), *views[:11])
        eleven = await customer_when(
            profile.client, customer_id, lambda c: c["activity"]["views_30d"] == 11
        )
        assert "appliance_intent" not in eleven["tags"]

        await publish(broker.bootstrap, views[11])
        twelve = await customer_when(
            profile.client, customer_id, lambda c: "appliance_intent" in c["tags"]
        )
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


async def test_refunds_make_a_frequent_returner_listed_by_tag(broker, service):
    customer_id = new_id("c")
    orders = [new_id("o") for _ in range(11)]  # 3 refunds of 11 orders: 27 %, below the rate
    events = [placed(customer_id, o, T0 + timedelta(hours=n)) for n, o in enumerate(orders)]
    events += [
        refunded(customer_id, o, T0 + timedelta(hours=10 + n)) for n, o in enumerate(orders[:3])
    ]
    async with service("profile") as profile:
        await publish(broker.bootstrap, *events)
        body = await customer_when(
            profile.client, customer_id, lambda c: "frequent_returner" in c["tags"]
        )
        assert body["activity"]["refunds_90d"] == 3
        listing = (await profile.client.get("/v1/customers?tag=frequent_returner")).json()
        assert [item["customer_id"] for item in listing["items"]] == [customer_id]
        assert listing["items"][0]["tagged_since"].startswith(
            (T0 + timedelta(hours=12)).isoformat()[:19]
        )


async def test_the_sweep_removes_a_tag_whose_window_has_passed(broker, service):
    customer_id = new_id("c")
    clock = FixedClock(T0)
    first = T0 - timedelta(days=20)
    views = [viewed(customer_id, first + timedelta(minutes=n)) for n in range(12)]
    async with service("profile", clock=clock) as profile:
        await publish(broker.bootstrap, *views)
        await customer_when(profile.client, customer_id, lambda c: "appliance_intent" in c["tags"])
        await published(broker.bootstrap, "profile.tagged", customer_id, expect=2)

        sweep = profile.app.state.tag_sweep
        clock.set(first + timedelta(days=30) - timedelta(seconds=1))
        await profile.runtime.run_task_once(sweep)
        still = (await profile.client.get(f"/v1/customers/{customer_id}")).json()
        assert "appliance_intent" in still["tags"]

        clock.set(first + timedelta(days=30))
        await profile.runtime.run_task_once(sweep)
        after = (await profile.client.get(f"/v1/customers/{customer_id}")).json()
        assert "appliance_intent" not in after["tags"]
        assert after["tags_as_of"].startswith((first + timedelta(days=30)).isoformat()[:19])

        announced = await published(broker.bootstrap, "profile.tagged", customer_id, expect=3)
        assert announced[-1]["data"]["removed"] == ["appliance_intent"]
        assert announced[-1]["time"].startswith((first + timedelta(days=30)).isoformat()[:19])
