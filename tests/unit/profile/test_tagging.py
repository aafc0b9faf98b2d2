"""Events become tags in the 360 and profile.tagged events; the sweep re-evaluates tags that
time alone changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.clock import FixedClock
from shared.events.envelope import CloudEvent
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def viewed(customer_id: str, at: datetime) -> dict[str, Any]:
    return builders.product_viewed(customer_id, sku=new_id("sku"), category="robot_vacuum", at=at)


async def customer_360(profile: ServiceHarness, customer_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await profile.client.get(f"/v1/customers/{customer_id}")).json()
    return body


async def tagged(profile: ServiceHarness, customer_id: str) -> list[CloudEvent]:
    return [e for e in await profile.published("profile.tagged") if e.subject == customer_id]


async def test_twelve_appliance_views_tag_the_customer_and_announce_it(tmp_path: Path) -> None:
    customer_id = new_id("c")
    views = [viewed(customer_id, T0 + timedelta(minutes=n)) for n in range(12)]
    clock = FixedClock(T0 + timedelta(days=1))
    async with service_harness("profile", tmp_path, clock=clock) as profile:
        await profile.deliver(builders.customer_registered(customer_id, name="Li Wei", at=T0))
        await profile.deliver(*views[:11])
        eleven = await customer_360(profile, customer_id)
        assert eleven["activity"]["views_30d"] == 11
        assert "appliance_intent" not in eleven["tags"]

        await profile.deliver(views[11])
        twelve = await customer_360(profile, customer_id)
        assert "appliance_intent" in twelve["tags"]
        assert twelve["tags_as_of"].startswith((T0 + timedelta(minutes=11)).isoformat()[:19])

        # Five views made a browser who never bought; the twelfth made the intent.
        browsing, announced = await tagged(profile, customer_id)
        assert browsing.data["added"] == ["browsing_never_bought"]
        assert announced.type == "profile.tagged"
        assert announced.source == "loopcrm/profile"
        assert announced.subject == customer_id
        assert announced.data["added"] == ["appliance_intent"]
        assert announced.data["removed"] == []
        assert announced.data["tags"] == twelve["tags"]
        assert announced.data["behaviour_tags"] == ["appliance_intent"]


async def test_refunds_make_a_frequent_returner_listed_by_tag(tmp_path: Path) -> None:
    customer_id = new_id("c")
    orders = [new_id("o") for _ in range(11)]  # 3 refunds of 11 orders: 27 %, below the rate
    events = [
        builders.order_placed(
            customer_id,
            amount="200.00",
            order_id=o,
            category="snacks",
            channel="online",
            at=T0 + timedelta(hours=n),
        )
        for n, o in enumerate(orders)
    ]
    events += [
        builders.order_refunded(
            customer_id,
            o,
            amount="200.00",
            reason="size_mismatch",
            at=T0 + timedelta(hours=10 + n),
        )
        for n, o in enumerate(orders[:3])
    ]
    async with service_harness(
        "profile", tmp_path, clock=FixedClock(T0 + timedelta(days=1))
    ) as profile:
        await profile.deliver_each(*events)
        body = await customer_360(profile, customer_id)
        assert "frequent_returner" in body["tags"]
        assert body["activity"]["refunds_90d"] == 3
        listing = (await profile.client.get("/v1/customers?tag=frequent_returner")).json()
        assert [item["customer_id"] for item in listing["items"]] == [customer_id]
        assert listing["items"][0]["tagged_since"].startswith(
            (T0 + timedelta(hours=12)).isoformat()[:19]
        )


async def test_the_sweep_removes_a_tag_whose_window_has_passed(tmp_path: Path) -> None:
    customer_id = new_id("c")
    clock = FixedClock(T0)
    first = T0 - timedelta(days=20)
    # A view a day: a window counts facts a day at a time (a day leaves it when its first
    # fact does), so only the first view leaves at first + 30 days.
    views = [viewed(customer_id, first + timedelta(days=n)) for n in range(12)]
    async with service_harness("profile", tmp_path, clock=clock) as profile:
        # One transaction per view: a run would announce its two changes as one.
        await profile.deliver_each(*views)
        assert "appliance_intent" in (await customer_360(profile, customer_id))["tags"]
        assert len(await tagged(profile, customer_id)) == 2

        clock.set(first + timedelta(days=30) - timedelta(seconds=1))
        await profile.run_task("tag-sweep")
        still = await customer_360(profile, customer_id)
        assert "appliance_intent" in still["tags"]

        clock.set(first + timedelta(days=30))
        await profile.run_task("tag-sweep")
        after = await customer_360(profile, customer_id)
        assert "appliance_intent" not in after["tags"]
        assert after["tags_as_of"].startswith((first + timedelta(days=30)).isoformat()[:19])

        announced = await tagged(profile, customer_id)
        assert len(announced) == 3
        assert announced[-1].data["removed"] == ["appliance_intent"]
        assert announced[-1].time == first + timedelta(days=30)


async def test_the_sweep_takes_every_due_customer_a_batch_per_transaction(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    first = T0 - timedelta(days=20)
    customers = [new_id("c") for _ in range(5)]
    views = [viewed(c, first + timedelta(minutes=n)) for c in customers for n in range(12)]
    async with service_harness("profile", tmp_path, clock=clock, tag_sweep_batch_size=2) as profile:
        await profile.deliver_each(*views)
        clock.set(first + timedelta(days=31))
        await profile.run_task("tag-sweep")
        for customer_id in customers:
            assert "appliance_intent" not in (await customer_360(profile, customer_id))["tags"]
