"""Consent, frequency caps and contact data through the API, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.clock import FixedClock
from tests.integration.engagement.helpers import (
    FAST,
    known,
    messages,
    published,
    register,
    send,
    service_event,
)
from tests.support.events import new_id

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def test_marketing_caps_over_a_rolling_window(broker, service):
    clock = FixedClock(NOW)
    regular, returner = new_id("c"), new_id("c")
    async with service("engagement", clock=clock, **FAST) as engagement:
        client = engagement.client
        for customer_id in (regular, returner):
            await register(
                broker.bootstrap, customer_id, consents={"email": True}, email="a@example.com"
            )
        await service_event(
            broker.bootstrap,
            "profile.tagged",
            {
                "customer_id": returner,
                "added": ["frequent_returner"],
                "tags": ["frequent_returner"],
            },
        )
        await known(client, regular, lambda c: c["consents"] == {"email": True})
        await known(
            client, returner, lambda c: c["tags"] == ["frequent_returner"] and c["consents"]
        )

        for customer_id, cap in ((regular, 4), (returner, 2)):
            outcomes = [(await send(client, customer_id))["outcome"] for _ in range(cap)]
            assert outcomes == ["sent"] * cap
            capped = await send(client, customer_id)
            assert (capped["outcome"], capped["reason"]) == ("suppressed", "frequency_cap")
            service_message = await send(client, customer_id, purpose="service")
            assert service_message["outcome"] == "sent"

        clock.advance(30 * DAY - timedelta(seconds=1))
        assert (await send(client, regular))["reason"] == "frequency_cap"
        clock.advance(timedelta(seconds=1))
        assert (await send(client, regular))["outcome"] == "sent"

        page = (await client.get(f"/v1/customers/{regular}/messages?limit=3")).json()
        assert [m["outcome"] for m in page["items"]] == ["sent", "suppressed", "sent"]
        assert page["next_cursor"] is not None
        after = f"/v1/customers/{regular}/messages?cursor={page['next_cursor']}"
        rest = (await client.get(after)).json()
        assert len(rest["items"]) == 5 and rest["next_cursor"] is None
        capped_events = await published(
            broker.bootstrap,
            "message.suppressed",
            lambda e: e["data"]["reason"] == "frequency_cap",
            expect=3,
        )
        assert len(capped_events) == 3


async def test_consent_and_contact_come_first(broker, service):
    known_id, unknown_id = new_id("c"), new_id("c")
    async with service("engagement", clock=FixedClock(NOW), **FAST) as engagement:
        client = engagement.client
        await register(broker.bootstrap, known_id, consents={"email": True, "sms": True})
        await known(client, known_id)

        no_sms_number = await send(client, known_id, channel="sms", purpose="service")
        assert (no_sms_number["outcome"], no_sms_number["reason"]) == ("suppressed", "no_contact")
        for channel in ("push", "wecom"):
            refused = await send(client, known_id, channel=channel, purpose="service")
            assert refused["reason"] == "no_consent"
        for channel in ("email", "sms", "push", "wecom"):
            assert (await send(client, unknown_id, channel=channel))["reason"] == "no_consent"
        assert (await send(client, unknown_id, channel="in_app"))["outcome"] == "sent"

        # A later update withdraws e-mail consent and adds an address for SMS.
        await service_event(
            broker.bootstrap,
            "customer.updated",
            {"customer_id": known_id, "phone": "13900000000", "consents": {"email": False}},
        )
        body = await known(client, known_id, lambda c: c["consents"]["email"] is False)
        assert body["reachable_channels"] == ["sms", "in_app"]
        assert (await send(client, known_id, channel="sms"))["outcome"] == "sent"
        assert (await send(client, known_id, channel="email"))["reason"] == "no_consent"
        assert len(await messages(client, unknown_id)) == 5
