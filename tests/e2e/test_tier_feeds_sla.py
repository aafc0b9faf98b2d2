"""Loyalty to ticketing, end to end: storefront orders make a customer gold, ticketing learns
it from tier.changed, and the customer's next ticket gets the 4-hour VIP SLA."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.events import new_id, publish, storefront_event
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def order(customer_id: str, amount: str) -> dict:
    return storefront_event(
        "order.placed",
        {
            "order_id": new_id("o"),
            "customer_id": customer_id,
            "amount": amount,
            "currency": "CNY",
            "items": [
                {"sku": "tv-65", "category": "appliances", "quantity": 1, "unit_price": amount}
            ],
            "channel": "online",
        },
    )


async def test_orders_make_a_customer_gold_and_their_next_ticket_gets_the_vip_sla(platform):
    customer_id = new_id("c")
    await publish(
        platform.broker.bootstrap,
        storefront_event("customer.registered", {"customer_id": customer_id}),
        order(customer_id, "6000.00"),
        order(customer_id, "4500.00"),
    )
    async with platform.client("loyalty") as loyalty, platform.client("ticketing") as ticketing:
        points = await eventually(
            lambda: loyalty.get(f"/v1/customers/{customer_id}/points"),
            lambda r: r.status_code == 200 and r.json()["tier"] == "gold",
            timeout=10,
        )
        assert points.json()["balance"] > 0
        await eventually(
            lambda: ticketing.get(f"/v1/customers/{customer_id}/tier"),
            lambda r: r.json()["tier"] == "gold",
            timeout=10,
        )
        response = await ticketing.post(
            "/v1/tickets",
            json={
                "customer_id": customer_id,
                "kind": "inquiry",
                "category": "installation",
                "subject": "When will the installer come?",
            },
        )
        assert response.status_code == 201
        ticket = response.json()
        assert ticket["tier"] == "gold"
        assert at(ticket["response_due_at"]) == at(ticket["opened_at"]) + timedelta(hours=4)
