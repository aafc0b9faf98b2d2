from tests.support.events import new_id, publish, storefront_event
from tests.support.polling import eventually


async def test_profile_stores_a_registered_customer(broker, service):
    customer_id = new_id("c")
    async with service("profile") as profile:
        await publish(
            broker.bootstrap,
            storefront_event(
                "customer.registered",
                {"customer_id": customer_id, "name": "Li Wei", "consents": {"email": True}},
            ),
        )
        response = await eventually(
            lambda: profile.client.get(f"/v1/customers/{customer_id}"),
            lambda r: r.status_code == 200,
        )
        body = response.json()
        assert body["name"] == "Li Wei"
        assert body["consents"]["email"] is True
