"""DESIGN's defining rule, end to end, with all five services as real processes:
a complaint silences marketing for 30 days and reprioritises open tickets by tier SLA."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.events import new_id, publish, storefront_event
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def make_customer(platform, tier: str) -> str:
    customer_id = new_id("c")
    events = [
        storefront_event(
            "customer.registered",
            {
                "customer_id": customer_id,
                "name": "Test Customer",
                "email": f"{customer_id}@example.com",
                "phone": "+8613800138000",
                "consents": {"email": True, "sms": True, "push": False, "wecom": False},
            },
        )
    ]
    if tier != "bronze":
        events.append(
            storefront_event(
                "tier.changed",
                {
                    "customer_id": customer_id,
                    "old_tier": "bronze",
                    "new_tier": tier,
                    "net_spend_12m": "12000.00",
                    "reason": "upgrade",
                },
                source="loopcrm/loyalty",
            )
        )
    await publish(platform.broker.bootstrap, *events)
    async with platform.client("ticketing") as ticketing:
        await eventually(
            lambda: ticketing.get(f"/v1/customers/{customer_id}/tier"),
            lambda r: r.status_code == 200 and r.json()["tier"] == tier,
        )
    async with platform.client("engagement") as engagement:
        # Engagement has learned the consents once customer.registered has reached it.
        await eventually(
            lambda: engagement.get(f"/v1/customers/{customer_id}"),
            lambda r: r.status_code == 200,
        )
    return customer_id


async def open_ticket(ticketing, customer_id: str, kind: str, category: str = "logistics"):
    response = await ticketing.post(
        "/v1/tickets",
        json={"customer_id": customer_id, "kind": kind, "category": category, "subject": kind},
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(
    ("tier", "priority", "sla_hours"), [("gold", "P1", 4), ("bronze", "P2", 24)]
)
async def test_a_complaint_silences_marketing_and_reprioritises_open_tickets(
    platform, tier, priority, sla_hours
):
    ticketing = platform.client("ticketing")
    engagement = platform.client("engagement")
    async with ticketing, engagement:
        other = await make_customer(platform, "bronze")
        older_bronze = await open_ticket(ticketing, other, "inquiry", "quality")
        assert older_bronze["priority"] == "P3"

        customer_id = await make_customer(platform, tier)
        inquiry = await open_ticket(ticketing, customer_id, "inquiry")
        complaint = await open_ticket(ticketing, customer_id, "complaint")
        complained_at = at(complaint["opened_at"])

        reprioritised = await eventually(
            lambda: ticketing.get(f"/v1/tickets/{inquiry['id']}"),
            lambda r: r.json()["priority"] == priority,
            timeout=5,
        )
        due = at(reprioritised.json()["response_due_at"])
        assert due <= complained_at + timedelta(hours=sla_hours)
        assert reprioritised.json()["history"], "the change is recorded with its reason"

        silence = await eventually(
            lambda: engagement.get(f"/v1/customers/{customer_id}/silence"),
            lambda r: r.json()["silenced"],
            timeout=5,
        )
        assert at(silence.json()["until"]) == complained_at + timedelta(days=30)

        marketing = await engagement.post(
            "/v1/messages",
            json={
                "customer_id": customer_id,
                "channel": "email",
                "purpose": "marketing",
                "template": "luxury_promotion",
            },
        )
        assert marketing.status_code in (200, 201)
        assert marketing.json()["outcome"] == "suppressed"
        assert marketing.json()["reason"] == "silenced"

        messages = await eventually(
            lambda: engagement.get(f"/v1/customers/{customer_id}/messages"),
            lambda r: any(
                m["template"] == "complaint_follow_up" and m["outcome"] == "sent"
                for m in r.json()["items"]
            ),
            timeout=5,
        )
        assert any(m["reason"] == "silenced" for m in messages.json()["items"])

        async with platform.client("profile") as profile:
            # The customer 360 learns all of it from events.
            view = await eventually(
                lambda: profile.get(f"/v1/customers/{customer_id}"),
                lambda r: (
                    r.status_code == 200
                    and r.json()["open_tickets"] == 2
                    and r.json()["silence"]["silenced"]
                ),
                timeout=5,
            )
            assert at(view.json()["silence"]["until"]) == complained_at + timedelta(days=30)
            assert view.json()["tier"] == (None if tier == "bronze" else tier)
            assert "logistics_sensitive" in view.json()["tags"]

        queue = (await ticketing.get("/v1/queue", params={"limit": 200})).json()["items"]
        order = [t["id"] for t in queue]
        assert order.index(inquiry["id"]) < order.index(older_bronze["id"])
        assert order.index(complaint["id"]) < order.index(older_bronze["id"])
