"""A storefront without Kafka: a batch posted to profile's POST /v1/events, good events and bad,
reaches the consumers of other services through the real broker; the bad ones are answered."""

from tests.support import builders
from tests.support.events import new_id
from tests.support.polling import eventually

BATCH = {"content-type": "application/cloudevents-batch+json"}


async def test_a_batch_over_http_reaches_the_consumers_and_the_bad_events_are_answered(service):
    customer_id = new_id("c")
    registered = builders.customer_registered(customer_id, name="Li Wei")
    ordered = builders.order_placed(customer_id, amount="300.00", order_id=new_id("o"))
    no_sku = builders.product_viewed(customer_id)
    del no_sku["data"]["sku"]
    forged = builders.tier_changed(customer_id, old_tier="bronze", new_tier="platinum")
    async with service("profile") as profile, service("loyalty") as loyalty:
        answer = await profile.client.post(
            "/v1/events", json=[registered, ordered, no_sku, forged], headers=BATCH
        )
        assert answer.status_code == 202, answer.text
        assert [(e["status"], e["reason"]) for e in answer.json()["events"]] == [
            ("accepted", None),
            ("accepted", None),
            ("rejected", "invalid_data"),
            ("rejected", "unknown_type"),
        ]

        points = await eventually(
            lambda: loyalty.client.get(f"/v1/customers/{customer_id}/points"),
            lambda r: r.status_code == 200 and r.json()["balance"] > 0,
        )
        assert points.json()["tier"] == "bronze"  # the forged tier.changed went nowhere
        customer = await eventually(
            lambda: profile.client.get(f"/v1/customers/{customer_id}"),
            lambda r: r.status_code == 200 and r.json()["name"] == "Li Wei",
        )
        assert customer.json()["customer_id"] == customer_id
