"""Erasure: personal data, consents, facts and tags go; customer.erased is published once;
later events never bring personal data back."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.profile.helpers import (
    T0,
    customer_when,
    handled,
    published,
    registered,
    ticket_opened,
    tier_changed,
    updated,
    viewed,
)
from tests.support.events import new_id, publish
from tests.support.polling import eventually


async def test_erasure_removes_personal_data_for_good(broker, service):
    customer_id = new_id("c")
    views = [viewed(customer_id, T0 + timedelta(minutes=n)) for n in range(12)]
    async with service("profile") as profile:
        client = profile.client
        await publish(
            broker.bootstrap,
            registered(
                customer_id,
                name="Li Wei",
                email="li@example.com",
                phone="+8613800000000",
                birthday="1990-03-17",
                consents={"email": True},
            ),
            tier_changed(customer_id, "silver", "gold", T0),
            *views,
        )
        await customer_when(
            client, customer_id, lambda c: {"appliance_intent", "vip"} <= set(c["tags"])
        )

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

        again = await client.delete(f"/v1/customers/{customer_id}")
        assert again.status_code == 200
        assert again.json()["erased_at"] == body["erased_at"]

        (announced,) = await published(broker.bootstrap, "customer.erased", customer_id)
        assert announced["data"] == {"customer_id": customer_id, "erased_at": body["erased_at"]}

        later = T0 + timedelta(hours=1)
        await publish(
            broker.bootstrap,
            updated(customer_id, later, name="Li", email="new@example.com", consents={"sms": True}),
            *[viewed(customer_id, later + timedelta(minutes=n)) for n in range(12)],
            ticket_opened(customer_id, new_id("t"), later),
        )
        await eventually(lambda: handled(client, "product.viewed"), lambda n: n == 24)
        await eventually(lambda: handled(client, "customer.updated"), lambda n: n == 1)
        after = await customer_when(client, customer_id, lambda c: c["open_tickets"] == 1)
        assert (after["name"], after["email"], after["consents"]) == (None, None, {})
        assert after["tags"] == []
        assert after["activity"]["views_30d"] == 0

        listing = (await client.get("/v1/customers", params={"tag": "vip"})).json()
        assert listing["items"] == []
        assert len(await published(broker.bootstrap, "customer.erased", customer_id)) == 1
