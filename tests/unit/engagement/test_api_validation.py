"""Every endpoint through the harness: bad input is 422 naming the field, unknown ids are 404,
keys are required."""

from __future__ import annotations

from tests.support.builders import new_id
from tests.support.harness import ServiceHarness

GOOD_MESSAGE = {
    "customer_id": "c-1",
    "channel": "email",
    "purpose": "marketing",
    "template": "spring_sale",
}
GOOD_CAMPAIGN = {"name": "Spring", "segment": "loyal", "channel": "wecom", "template": "spring"}

BAD_REQUESTS = [
    ("post", "/v1/messages", {**GOOD_MESSAGE, "channel": "fax"}, "channel"),
    ("post", "/v1/messages", {**GOOD_MESSAGE, "purpose": "spam"}, "purpose"),
    (
        "post",
        "/v1/messages",
        {k: v for k, v in GOOD_MESSAGE.items() if k != "template"},
        "template",
    ),
    ("post", "/v1/messages", {**GOOD_MESSAGE, "template": "Bad Name!"}, "template"),
    ("post", "/v1/messages", {**GOOD_MESSAGE, "customer_id": ""}, "customer_id"),
    ("post", "/v1/messages", {**GOOD_MESSAGE, "params": {"a": {"nested": 1}}}, "params.a"),
    ("post", "/v1/messages", {**GOOD_MESSAGE, "priority": "high"}, "priority"),
    ("post", "/v1/campaigns", {**GOOD_CAMPAIGN, "segment": "loyall"}, "segment"),
    ("post", "/v1/campaigns", {**GOOD_CAMPAIGN, "name": " "}, "name"),
    ("post", "/v1/campaigns", {**GOOD_CAMPAIGN, "channel": None}, "channel"),
    ("get", "/v1/customers/c-1/messages?limit=0", None, "limit"),
    ("get", "/v1/customers/c-1/messages?limit=501", None, "limit"),
    ("get", "/v1/customers/c-1/messages?cursor=not-a-cursor", None, "cursor"),
    ("get", f"/v1/customers/{'x' * 129}/silence", None, "customer_id"),
    ("get", f"/v1/customers/{'x' * 129}/messages", None, "customer_id"),
    ("get", f"/v1/customers/{'x' * 129}", None, "customer_id"),
    ("post", f"/v1/campaigns/{'x' * 65}/dispatch", None, "campaign_id"),
    ("get", f"/v1/campaigns/{'x' * 65}", None, "campaign_id"),
]


async def test_bad_input_is_422_naming_the_field(svc: ServiceHarness) -> None:
    client = svc.client
    for method, url, body, field in BAD_REQUESTS:
        response = await client.request(method, url, json=body)
        assert response.status_code == 422, (url, body, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        named = [f["field"] for f in error["fields"]]
        assert any(name.endswith(field) for name in named), (field, named)
        assert field in error["message"]

    long_key = {"Idempotency-Key": "k" * 201}
    response = await client.post("/v1/messages", json=GOOD_MESSAGE, headers=long_key)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["message"]
    response = await client.post(
        "/v1/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_unknown_ids(svc: ServiceHarness) -> None:
    client = svc.client
    stranger = new_id("c")
    for method, url in (
        ("get", "/v1/campaigns/no-such-campaign"),
        ("post", "/v1/campaigns/no-such-campaign/dispatch"),
        ("get", f"/v1/customers/{stranger}"),
    ):
        response = await client.request(method, url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    # Asking whether a stranger may be mailed is a fair question, not a missing record.
    silence = await client.get(f"/v1/customers/{stranger}/silence")
    assert (silence.status_code, silence.json()["silenced"]) == (200, False)
    history = await client.get(f"/v1/customers/{stranger}/messages")
    assert (history.status_code, history.json()["items"]) == (200, [])


async def test_every_route_needs_an_api_key(svc: ServiceHarness) -> None:
    for method, url in (
        ("get", "/v1/customers/c-1"),
        ("get", "/v1/customers/c-1/silence"),
        ("get", "/v1/customers/c-1/messages"),
        ("post", "/v1/messages"),
        ("post", "/v1/campaigns"),
        ("get", "/v1/campaigns/x"),
        ("post", "/v1/campaigns/x/dispatch"),
    ):
        response = await svc.client.request(method, url, headers={"Authorization": ""})
        assert response.status_code == 401, url
