"""The customer 360 learns tier, segment, silence and open tickets from the other services."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import FixedClock
from tests.integration.profile.helpers import (
    T0,
    complaint_opened,
    customer_when,
    registered,
    segment_changed,
    silence_started,
    ticket_opened,
    ticket_resolved,
    tier_changed,
)
from tests.support.events import new_id, publish


async def test_the_360_shows_what_other_services_said(broker, service):
    customer_id = new_id("c")
    clock = FixedClock(T0 + timedelta(days=1))
    silence_until = T0 + timedelta(days=30)
    ticket_a, ticket_b = new_id("t"), new_id("t")
    async with service("profile", clock=clock) as profile:
        await publish(
            broker.bootstrap,
            registered(
                customer_id,
                name="Li Wei",
                email="li@example.com",
                birthday="1990-03-17",
                consents={"email": True, "sms": False},
            ),
            tier_changed(customer_id, "silver", "gold", T0 + timedelta(minutes=1)),
            segment_changed(customer_id, None, "loyal", T0 + timedelta(minutes=2)),
            ticket_opened(customer_id, ticket_a, T0 + timedelta(minutes=3)),
            ticket_opened(customer_id, ticket_b, T0 + timedelta(minutes=4)),
            ticket_resolved(customer_id, ticket_a, T0 + timedelta(minutes=5)),
            complaint_opened(customer_id, ticket_b, T0 + timedelta(minutes=6)),
            silence_started(customer_id, silence_until, T0 + timedelta(minutes=6)),
        )
        body = await customer_when(
            profile.client,
            customer_id,
            lambda c: (
                c["silence"]["until"] is not None
                and c["segment"] == "loyal"
                and c["tier"] == "gold"
                and c["activity"]["complaints_365d"] == 1
                and c["activity"]["inquiries_30d"] == 2
                and c["open_tickets"] == 1
            ),
        )
        assert body["name"] == "Li Wei"
        assert body["email"] == "li@example.com"
        assert body["birthday"] == "1990-03-17"
        assert body["consents"] == {"email": True, "sms": False}
        assert body["tier_since"].startswith((T0 + timedelta(minutes=1)).isoformat()[:19])
        assert body["silence"] == {
            "silenced": True,
            "until": silence_until.isoformat().replace("+00:00", "Z"),
            "reason": "complaint",
        }
        assert {
            "vip",
            "marketing_silenced",
            "logistics_sensitive",
            "recent_complainer",
            "service_sensitive",
            "has_open_ticket",
            "email_reachable",
        } <= set(body["tags"])

        clock.set(silence_until)
        later = (await profile.client.get(f"/v1/customers/{customer_id}")).json()
        assert later["silence"]["silenced"] is False


async def test_a_late_tier_change_does_not_overwrite_a_newer_one(broker, service):
    customer_id = new_id("c")
    async with service("profile") as profile:
        await publish(broker.bootstrap, tier_changed(customer_id, "gold", "platinum", T0))
        await customer_when(profile.client, customer_id, lambda c: c["tier"] == "platinum")
        await publish(
            broker.bootstrap,
            tier_changed(customer_id, "silver", "gold", T0 - timedelta(days=2)),
            segment_changed(customer_id, None, "regular", T0),
        )
        body = await customer_when(profile.client, customer_id, lambda c: c["segment"] is not None)
        assert body["tier"] == "platinum"
        assert {"vip", "platinum_member"} <= set(body["tags"])


async def test_a_later_silence_extends_and_an_earlier_end_never_shortens(broker, service):
    customer_id = new_id("c")
    longer, shorter = T0 + timedelta(days=40), T0 + timedelta(days=30)
    async with service("profile") as profile:
        await publish(broker.bootstrap, silence_started(customer_id, longer, T0))
        await customer_when(profile.client, customer_id, lambda c: c["silence"]["until"])
        await publish(
            broker.bootstrap,
            silence_started(customer_id, shorter, T0 + timedelta(hours=1)),
            tier_changed(customer_id, "bronze", "silver", T0 + timedelta(hours=2)),
        )
        body = await customer_when(profile.client, customer_id, lambda c: c["tier"] == "silver")
        assert body["silence"]["until"] == longer.isoformat().replace("+00:00", "Z")


async def test_a_resolution_handled_before_its_opening_leaves_no_open_ticket(broker, service):
    customer_id, ticket_id = new_id("c"), new_id("t")
    async with service("profile") as profile:
        await publish(broker.bootstrap, ticket_resolved(customer_id, ticket_id, T0))
        await customer_when(profile.client, customer_id, lambda c: c["open_tickets"] == 0)
        await publish(
            broker.bootstrap,
            ticket_opened(customer_id, ticket_id, T0 - timedelta(hours=1)),
            ticket_opened(customer_id, new_id("t"), T0),
        )
        body = await customer_when(
            profile.client, customer_id, lambda c: c["activity"]["inquiries_30d"] == 2
        )
        assert body["open_tickets"] == 1


async def test_an_unknown_customer_is_404(broker, service):
    async with service("profile") as profile:
        response = await profile.client.get(f"/v1/customers/{new_id('nobody')}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
