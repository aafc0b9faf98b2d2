"""The API through the harness: idempotent sends, cursor pages of a customer's messages, a
campaign dispatched to its segment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.clock import FixedClock
from shared.pagination import encode_cursor
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness


async def messages(svc: ServiceHarness, customer_id: str, query: str = "") -> dict[str, Any]:
    response = await svc.client.get(f"/v1/customers/{customer_id}/messages{query}")
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_the_same_idempotency_key_never_sends_twice(svc: ServiceHarness) -> None:
    customer_id = new_id("c")
    body = {
        "customer_id": customer_id,
        "channel": "in_app",
        "purpose": "marketing",
        "template": "spring_sale",
        "params": {"discount": 10},
    }
    headers = {"Idempotency-Key": "order-42-promo"}
    first = await svc.client.post("/v1/messages", json=body, headers=headers)
    again = await svc.client.post("/v1/messages", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = await svc.client.post(
        "/v1/messages", json={**body, "template": "other"}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert len((await messages(svc, customer_id))["items"]) == 1


async def test_messages_come_newest_first_a_cursor_page_at_a_time(svc: ServiceHarness) -> None:
    customer_id = new_id("c")
    assert isinstance(svc.clock, FixedClock)
    sent = []
    for minute in range(5):
        if minute != 2:  # two decisions in the same moment: the sequence orders them
            svc.clock.advance(timedelta(minutes=1))
        body = {"customer_id": customer_id, "channel": "in_app", "purpose": "service"}
        response = await svc.client.post("/v1/messages", json={**body, "template": f"t{minute}"})
        sent.append(response.json()["message_id"])

    first = await messages(svc, customer_id, "?limit=2")
    assert [m["message_id"] for m in first["items"]] == sent[:2:-1]
    second = await messages(svc, customer_id, f"?limit=2&cursor={first['next_cursor']}")
    assert [m["message_id"] for m in second["items"]] == sent[2:0:-1]
    last = await messages(svc, customer_id, f"?limit=2&cursor={second['next_cursor']}")
    assert [m["message_id"] for m in last["items"]] == sent[:1]
    assert last["next_cursor"] is None
    whole = await messages(svc, customer_id, "?limit=5")
    assert len(whole["items"]) == 5 and whole["next_cursor"] is None


async def test_a_cursor_this_api_never_issued_is_422(svc: ServiceHarness) -> None:
    for cursor in ("not-a-cursor", encode_cursor("garbage"), encode_cursor("2025-06-01|x")):
        response = await svc.client.get(f"/v1/customers/c-1/messages?cursor={cursor}")
        assert response.status_code == 422, cursor
        [field] = response.json()["error"]["fields"]
        assert (field["field"], field["location"]) == ("query.cursor", "query")


async def test_a_campaign_reaches_the_current_members_once(svc: ServiceHarness) -> None:
    mailable, unconsented = new_id("c"), new_id("c")
    await svc.deliver(
        builders.customer_registered(mailable, email="x@example.com", consents={"email": True}),
        builders.segment_changed(mailable, old_segment="regular", new_segment="at_risk"),
        builders.segment_changed(unconsented, old_segment="regular", new_segment="at_risk"),
    )
    body = {"name": "Come back", "segment": "at_risk", "channel": "email", "template": "back"}
    campaign = (await svc.client.post("/v1/campaigns", json=body)).json()

    url = f"/v1/campaigns/{campaign['campaign_id']}/dispatch"
    first = (await svc.client.post(url)).json()
    assert (first["members"], first["sent"], first["suppressed"]) == (2, 1, {"no_consent": 1})
    again = (await svc.client.post(url)).json()
    assert (again["already_dispatched"], again["sent"]) == (2, 0)
    stored = (await svc.client.get(f"/v1/campaigns/{campaign['campaign_id']}")).json()
    assert stored["dispatches"] == 2
    [delivered] = svc.context.recording.for_customer(mailable)
    assert (delivered.address, delivered.template) == ("x@example.com", "back")
