"""Campaigns over the segment read model, segment playbooks, CSAT coupons and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.clock import FixedClock
from tests.integration.engagement.helpers import (
    FAST,
    handled,
    known,
    messages,
    messages_until,
    open_complaint,
    register,
    send,
    service_event,
    settled,
)
from tests.support.events import new_id

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def _enter(bootstrap: str, customer_id: str, segment: str, old: str | None = "regular"):
    data = {
        "customer_id": customer_id,
        "old_segment": old,
        "new_segment": segment,
        "rfm": {"recency_days": 70, "frequency": 3, "monetary": "800.00"},
    }
    await service_event(bootstrap, "segment.changed", data, at=NOW - HOUR)


async def test_a_campaign_reaches_current_members_through_the_pipeline(broker, service):
    mailable, unconsented, silenced, elsewhere = (new_id("c") for _ in range(4))
    async with service("engagement", clock=FixedClock(NOW), **FAST) as engagement:
        client = engagement.client
        for customer_id in (mailable, silenced):
            await register(
                broker.bootstrap, customer_id, consents={"email": True}, email="x@example.com"
            )
        await open_complaint(broker.bootstrap, silenced, NOW - HOUR)
        for customer_id in (mailable, unconsented, silenced):
            await _enter(broker.bootstrap, customer_id, "at_risk")
        await _enter(broker.bootstrap, elsewhere, "dormant")
        await known(client, mailable, lambda c: c["segment"] == "at_risk" and c["consents"])
        await known(
            client, silenced, lambda c: c["segment"] == "at_risk" and c["silence"]["silenced"]
        )
        await known(client, unconsented, lambda c: c["segment"] == "at_risk")
        await known(client, elsewhere, lambda c: c["segment"] == "dormant")

        created = await client.post(
            "/v1/campaigns",
            json={
                "name": "We miss you",
                "segment": "at_risk",
                "channel": "email",
                "template": "miss_you",
            },
        )
        assert created.status_code == 201, created.text
        campaign = created.json()
        assert (campaign["purpose"], campaign["dispatches"]) == ("marketing", 0)

        dispatched = await client.post(f"/v1/campaigns/{campaign['campaign_id']}/dispatch")
        assert dispatched.status_code == 200, dispatched.text
        assert dispatched.json() == {
            "campaign_id": campaign["campaign_id"],
            "members": 3,
            "already_dispatched": 0,
            "sent": 1,
            "pending": 0,
            "suppressed": {"no_consent": 1, "silenced": 1},
        }
        again = (await client.post(f"/v1/campaigns/{campaign['campaign_id']}/dispatch")).json()
        assert (again["already_dispatched"], again["sent"], again["suppressed"]) == (3, 0, {})
        [sent] = await messages(client, mailable)
        assert (sent["campaign_id"], sent["trigger"]) == (campaign["campaign_id"], "campaign")
        assert await messages(client, elsewhere) == []
        stored = (await client.get(f"/v1/campaigns/{campaign['campaign_id']}")).json()
        assert stored["dispatches"] == 2


async def test_playbooks_and_csat_coupons(broker, service):
    loyal, win_back, happy, unhappy, late = (new_id("c") for _ in range(5))
    async with service("engagement", clock=FixedClock(NOW), **FAST) as engagement:
        client = engagement.client
        await register(broker.bootstrap, loyal, consents={"wecom": True})
        await register(broker.bootstrap, win_back, consents={"sms": True}, phone="13700000000")
        await register(broker.bootstrap, happy, consents={"email": True}, email="h@example.com")
        await known(client, loyal, lambda c: c["consents"])
        await known(client, win_back, lambda c: c["consents"])
        await known(client, happy, lambda c: c["consents"])
        await _enter(broker.bootstrap, loyal, "loyal")
        await _enter(broker.bootstrap, win_back, "win_back", old="dormant")
        for customer_id, csat, resolved_at in (
            (happy, 5, NOW - HOUR),
            (unhappy, 3, NOW - HOUR),
            (late, 5, NOW - 73 * HOUR),
        ):
            await service_event(
                broker.bootstrap,
                "ticket.resolved",
                {
                    "customer_id": customer_id,
                    "ticket_id": new_id("t"),
                    "kind": "repair",
                    "category": "installation",
                    "resolved_at": resolved_at.isoformat(),
                    "csat": csat,
                },
                at=resolved_at,
            )

        [trial] = await messages_until(client, loyal, settled(1))
        assert (trial["channel"], trial["template"], trial["outcome"]) == (
            "wecom",
            "new_product_trial",
            "sent",
        )
        restock = await messages_until(client, win_back, settled(2))
        assert sorted(m["channel"] for m in restock) == ["in_app", "sms"]
        assert {m["template"] for m in restock} == {"restock_coupon"}
        [coupon] = await messages_until(client, happy, settled(1))
        assert (coupon["channel"], coupon["purpose"], coupon["template"]) == (
            "email",
            "marketing",
            "csat_coupon",
        )
        assert coupon["params"]["category"] == "installation"
        await handled(client, "ticket.resolved", 3)
        assert await messages(client, unhappy) == [] and await messages(client, late) == []


async def test_erasure_drops_contact_data_and_keeps_decisions(broker, service):
    customer_id = new_id("c")
    async with service("engagement", clock=FixedClock(NOW), **FAST) as engagement:
        client = engagement.client
        await register(
            broker.bootstrap, customer_id, consents={"email": True}, email="gone@example.com"
        )
        await known(client, customer_id, lambda c: c["consents"])
        sent = await send(client, customer_id, params={"first_name": "Wei"})
        assert sent["outcome"] == "sent"
        assert engagement.runtime.context.recording.for_customer(customer_id)

        await service_event(
            broker.bootstrap,
            "customer.erased",
            {"customer_id": customer_id, "erased_at": NOW.isoformat()},
            at=NOW,
        )
        body = await known(client, customer_id, lambda c: c["erased"])
        assert (body["consents"], body["reachable_channels"]) == ({}, ["in_app"])
        [kept] = await messages(client, customer_id)
        assert (kept["message_id"], kept["outcome"], kept["params"]) == (
            sent["message_id"],
            "sent",
            None,
        )
        assert engagement.runtime.context.recording.for_customer(customer_id) == []
        assert (await send(client, customer_id))["reason"] == "no_consent"
