"""An event published through one service's outbox is consumed by another service."""

from tests.support.events import new_id
from tests.support.polling import eventually


async def test_a_ticket_opened_in_ticketing_reaches_the_customer_360_in_profile(service):
    customer_id = new_id("c")
    async with service("ticketing") as ticketing, service("profile") as profile:
        response = await ticketing.client.post(
            "/v1/tickets",
            json={
                "customer_id": customer_id,
                "kind": "inquiry",
                "category": "payment",
                "subject": "Charged twice",
            },
        )
        assert response.status_code == 201
        customer = await eventually(
            lambda: profile.client.get(f"/v1/customers/{customer_id}"),
            lambda r: r.status_code == 200 and r.json()["open_tickets"] == 1,
        )
        assert customer.json()["customer_id"] == customer_id

        ticket_id = response.json()["id"]
        resolved = await ticketing.client.post(f"/v1/tickets/{ticket_id}/resolve", json={})
        assert resolved.status_code == 200
        await eventually(
            lambda: profile.client.get(f"/v1/customers/{customer_id}"),
            lambda r: r.json()["open_tickets"] == 0,
        )
