"""complaint.opened on the real broker -> silence, silence.started, the follow-up notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.clock import FixedClock
from tests.integration.engagement.helpers import (
    FAST,
    known,
    messages_until,
    open_complaint,
    published,
    register,
    send,
    settled,
)
from tests.support.events import new_id, publish, storefront_event
from tests.support.polling import eventually

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _about(customer_id: str):
    return lambda event: event["subject"] == customer_id


async def test_a_complaint_silences_marketing_and_announces_the_follow_up(broker, service):
    customer_id = new_id("c")
    opened_at = NOW - timedelta(hours=2)
    async with service("engagement", clock=FixedClock(NOW), **FAST) as engagement:
        client = engagement.client
        await register(
            broker.bootstrap,
            customer_id,
            consents={"email": True, "sms": True},
            email="li.wei@example.com",
            phone="13800000000",
        )
        await known(client, customer_id, lambda c: c["consents"].get("sms") is True)
        ticket_id = await open_complaint(broker.bootstrap, customer_id, opened_at)

        silence = await _eventually_silenced(client, customer_id)
        assert datetime.fromisoformat(silence["until"]) == opened_at + 30 * DAY
        assert (silence["reason"], silence["ticket_id"]) == ("complaint", ticket_id)
        [started] = await published(broker.bootstrap, "silence.started", _about(customer_id))
        assert started["data"]["ticket_id"] == ticket_id
        assert datetime.fromisoformat(started["data"]["until"]) == opened_at + 30 * DAY

        items = await messages_until(client, customer_id, settled(1))
        [follow_up] = items
        assert (follow_up["template"], follow_up["purpose"]) == ("complaint_follow_up", "service")
        assert follow_up["channel"] == "sms"
        [delivered] = engagement.runtime.context.recording.for_customer(customer_id)
        assert (delivered.address, delivered.params["ticket_id"]) == ("13800000000", ticket_id)
        [sent] = await published(broker.bootstrap, "message.sent", _about(customer_id))
        assert sent["data"]["message_id"] == follow_up["message_id"]

        marketing = await send(client, customer_id, channel="email")
        assert (marketing["outcome"], marketing["reason"]) == ("suppressed", "silenced")
        [suppressed] = await published(broker.bootstrap, "message.suppressed", _about(customer_id))
        assert suppressed["data"]["reason"] == "silenced"
        assert suppressed["data"]["message_id"] == marketing["message_id"]


async def test_backdated_later_and_repeated_complaints(broker, service):
    customer_id = new_id("c")
    async with service("engagement", clock=FixedClock(NOW), **FAST) as engagement:
        client = engagement.client
        backdated = await open_complaint(broker.bootstrap, customer_id, NOW - 31 * DAY)
        await messages_until(client, customer_id, lambda m: len(m) == 1)
        silence = (await client.get(f"/v1/customers/{customer_id}/silence")).json()
        assert silence == {
            "customer_id": customer_id,
            "silenced": False,
            "until": None,
            "reason": None,
            "ticket_id": None,
        }

        first = await open_complaint(broker.bootstrap, customer_id, NOW - DAY)
        assert (await _eventually_silenced(client, customer_id))["ticket_id"] == first
        later = await open_complaint(broker.bootstrap, customer_id, NOW)
        silence = await _eventually_silenced(client, customer_id, ticket_id=later)
        assert datetime.fromisoformat(silence["until"]) == NOW + 30 * DAY

        # An older complaint and a redelivered one change nothing but get their own notice.
        older = await open_complaint(broker.bootstrap, customer_id, NOW - 5 * DAY)
        await open_complaint(broker.bootstrap, customer_id, NOW, ticket_id=later)
        items = await messages_until(client, customer_id, lambda m: len(m) >= 4)
        tickets = sorted(m["params"]["ticket_id"] for m in items)
        assert tickets == sorted([backdated, first, later, older])
        silence = (await client.get(f"/v1/customers/{customer_id}/silence")).json()
        assert (silence["ticket_id"], silence["until"][:10]) == (later, "2025-07-01")
        starts = await published(broker.bootstrap, "silence.started", _about(customer_id), 2)
        assert [s["data"]["ticket_id"] for s in starts] == [first, later]


async def test_a_redelivered_complaint_sends_one_notice(broker, service):
    customer_id = new_id("c")
    event = storefront_event(
        "complaint.opened",
        {
            "customer_id": customer_id,
            "ticket_id": new_id("t"),
            "category": "quality",
            "opened_at": NOW.isoformat(),
        },
        time=NOW,
        source="loopcrm/ticketing",
    )
    async with service("engagement", clock=FixedClock(NOW), **FAST) as engagement:
        await publish(broker.bootstrap, event, event, {**event, "id": new_id("e")})
        # Same customer, same partition, so handled after the three above.
        marker = await open_complaint(broker.bootstrap, customer_id, NOW)
        items = await messages_until(
            engagement.client,
            customer_id,
            lambda m: marker in {i["params"]["ticket_id"] for i in m},
        )
        assert len(items) == 2
        assert {i["channel"] for i in items} == {"in_app"}  # never heard of: no consent


async def _eventually_silenced(client, customer_id, ticket_id=None):
    response = await eventually(
        lambda: client.get(f"/v1/customers/{customer_id}/silence"),
        lambda r: r.json()["silenced"] and ticket_id in (None, r.json()["ticket_id"]),
    )
    return response.json()
