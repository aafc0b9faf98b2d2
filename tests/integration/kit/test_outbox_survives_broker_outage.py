"""An API write while the broker is down succeeds; its event reaches the broker afterwards."""

import asyncio

from shared.messaging.embedded_broker import EmbeddedBroker
from shared.messaging.topics import ensure_topics
from tests.support.events import new_id, publish, read_topic, storefront_event
from tests.support.polling import eventually


async def test_erasure_during_a_broker_outage_is_published_once_the_broker_is_back(
    broker, service, tmp_path
):
    customer_id = new_id("c")
    # The same address again, as after a broker restart (memory storage: topics anew).
    restarted = EmbeddedBroker(broker.port, log_path=tmp_path / "broker-2.log")
    try:
        async with service("profile") as profile:
            await publish(
                broker.bootstrap,
                storefront_event("customer.registered", {"customer_id": customer_id, "name": "Li"}),
            )
            await eventually(
                lambda: profile.client.get(f"/v1/customers/{customer_id}"),
                lambda r: r.status_code == 200,
            )

            await asyncio.to_thread(broker.stop)
            response = await profile.client.delete(f"/v1/customers/{customer_id}")
            assert response.status_code == 200
            assert response.json()["name"] is None
            await eventually(
                lambda: profile.client.get("/metrics"),
                lambda r: "loopcrm_outbox_backlog 1.0" in r.text,
            )
            assert (await profile.client.get("/readyz")).status_code == 503

            await asyncio.to_thread(restarted.start)
            await ensure_topics(restarted.bootstrap)
            records = await read_topic(restarted.bootstrap, "customer.erased", timeout=20)
            assert [r.key.decode() for r in records] == [customer_id]
            await eventually(
                lambda: profile.client.get("/metrics"),
                lambda r: "loopcrm_outbox_backlog 0.0" in r.text,
            )
            assert (await profile.client.get("/readyz")).status_code == 200
    finally:
        restarted.stop()
