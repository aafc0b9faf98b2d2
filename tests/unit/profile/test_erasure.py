"""Erasure: personal data, consents, facts and tags go; customer.erased is published once;
later events never bring personal data back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def viewed(customer_id: str, at: datetime) -> dict[str, Any]:
    return builders.product_viewed(customer_id, sku=new_id("sku"), category="robot_vacuum", at=at)


async def test_erasure_removes_personal_data_for_good(tmp_path: Path) -> None:
    customer_id = new_id("c")
    clock = FixedClock(T0 + timedelta(minutes=30))
    views = [viewed(customer_id, T0 + timedelta(minutes=n)) for n in range(12)]
    async with service_harness("profile", tmp_path, clock=clock) as profile:
        client = profile.client
        await profile.deliver_each(
            builders.customer_registered(
                customer_id,
                name="Li Wei",
                email="li@example.com",
                phone="+8613800000000",
                birthday="1990-03-17",
                consents={"email": True},
                at=T0,
            ),
            builders.tier_changed(customer_id, old_tier="silver", new_tier="gold", at=T0),
            *views,
        )
        before = (await client.get(f"/v1/customers/{customer_id}")).json()
        assert {"appliance_intent", "vip"} <= set(before["tags"])

        erased = await client.delete(f"/v1/customers/{customer_id}")
        assert erased.status_code == 200
        body = erased.json()
        for field in ("name", "email", "phone", "birthday"):
            assert body[field] is None, field
        assert body["erased"] is True
        assert body["consents"] == {}
        assert body["tags"] == []
        assert body["activity"]["views_30d"] == 0
        assert body["tier"] == "gold"  # operational state, not personal data

        clock.set(T0 + timedelta(minutes=40))
        again = await client.delete(f"/v1/customers/{customer_id}")
        assert again.status_code == 200
        assert again.json()["erased_at"] == body["erased_at"]

        (announced,) = await profile.published("customer.erased")
        assert announced.subject == customer_id
        assert announced.model_dump(mode="json")["data"] == {
            "customer_id": customer_id,
            "erased_at": body["erased_at"],
        }
        # The customer's profile.tagged events still waiting in the outbox are withdrawn.
        assert [e for e in await profile.published("profile.tagged")] == []

        later = T0 + timedelta(hours=1)
        outcomes = await profile.deliver_each(
            builders.customer_updated(
                customer_id, name="Li", email="new@example.com", consents={"sms": True}, at=later
            ),
            *[viewed(customer_id, later + timedelta(minutes=n)) for n in range(12)],
            builders.ticket_opened(customer_id, ticket_id=new_id("t"), at=later),
        )
        assert outcomes == ["handled"] * 14
        after = (await client.get(f"/v1/customers/{customer_id}")).json()
        assert after["open_tickets"] == 1
        assert (after["name"], after["email"], after["consents"]) == (None, None, {})
        assert after["tags"] == []
        assert after["activity"]["views_30d"] == 0

        listing = (await client.get("/v1/customers", params={"tag": "vip"})).json()
        assert listing["items"] == []
        assert len(await profile.published("customer.erased")) == 1
