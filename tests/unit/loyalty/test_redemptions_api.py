"""Redemptions: idempotent by key, never beyond the available balance, safe under races."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness
from tests.unit.loyalty.test_handlers import T0


@pytest.fixture
async def loyalty(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    clock = FixedClock(T0 + timedelta(hours=1))
    async with service_harness("loyalty", tmp_path, clock=clock) as svc:
        yield svc


async def _customer_with(loyalty: ServiceHarness, amount: str) -> str:
    customer_id = new_id("c")
    await loyalty.deliver(builders.order_placed(customer_id, amount=amount, at=T0))
    return customer_id


async def points_of(client, customer_id: str) -> dict[str, Any] | None:
    response = await client.get(f"/v1/customers/{customer_id}/points")
    return response.json() if response.status_code == 200 else None


async def assert_ledger_consistent(client, customer_id: str) -> None:
    response = await client.get(f"/v1/customers/{customer_id}/ledger/verify")
    assert response.status_code == 200, response.text
    assert response.json()["consistent"] is True, response.json()


def _redeem(client, customer_id, points, key=None, **extra):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"/v1/customers/{customer_id}/redemptions",
        json={"points": points, **extra},
        headers=headers,
    )


async def test_a_retry_with_the_same_key_gets_the_same_answer_and_redeems_once(loyalty):
    customer_id = await _customer_with(loyalty, "600")  # 1200 points
    key = new_id("key")

    first = await _redeem(loyalty.client, customer_id, 500, key)
    again = await _redeem(loyalty.client, customer_id, 500, key)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    body = first.json()
    assert (body["points"], body["coupon_value"], body["balance"]) == (500, "5.00", 700)
    assert (await points_of(loyalty.client, customer_id))["balance"] == 700

    reused = await _redeem(loyalty.client, customer_id, 600, key)
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"

    [published] = [
        event
        for event in await loyalty.published("points.redeemed")
        if event.subject == customer_id
    ]
    assert published.data["redemption_id"] == body["redemption_id"]
    assert published.data["coupon_value"] == "5.00"
    await assert_ledger_consistent(loyalty.client, customer_id)


async def test_more_than_available_is_refused_with_409_and_the_refusal_is_replayed(loyalty):
    customer_id = await _customer_with(loyalty, "600")  # 1200 points
    key = new_id("key")

    refused = await _redeem(loyalty.client, customer_id, 1300, key)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "insufficient_points"
    assert error["details"] == {"available": 1200, "requested": 1300}

    replayed = await _redeem(loyalty.client, customer_id, 1300, key)
    assert (replayed.status_code, replayed.json()) == (409, refused.json())
    assert (await _redeem(loyalty.client, customer_id, 1200, new_id("k"))).status_code == 201
    assert (await points_of(loyalty.client, customer_id))["balance"] == 0


async def test_concurrent_redemptions_never_overdraw(loyalty):
    customer_id = await _customer_with(loyalty, "500")  # 1000 points
    shared_key = new_id("key")
    answers = await asyncio.gather(
        *(_redeem(loyalty.client, customer_id, 300, new_id("k")) for _ in range(5)),
        *(_redeem(loyalty.client, customer_id, 100, shared_key) for _ in range(3)),
    )
    distinct = [a.status_code for a in answers[:5]]
    same_key = [a for a in answers[5:]]
    assert len({a.json()["redemption_id"] for a in same_key}) == 1
    # 1000 points: the shared key's 100 once, and three of the five 300s.
    assert sorted(distinct) == [201, 201, 201, 409, 409]
    body = await points_of(loyalty.client, customer_id)
    assert body["balance"] == 0
    await assert_ledger_consistent(loyalty.client, customer_id)


async def test_bad_redemption_requests_are_422_naming_the_field_and_unknown_is_404(loyalty):
    customer_id = await _customer_with(loyalty, "600")
    client = loyalty.client

    missing_key = await _redeem(client, customer_id, 100)
    assert missing_key.status_code == 422
    assert missing_key.json()["error"]["fields"][0]["field"] == "header.Idempotency-Key"

    for payload, field in [
        ({}, "points"),
        ({"points": 0}, "points"),
        ({"points": "lots"}, "points"),
        ({"points": 150}, "points"),  # not a whole number of yuan
        ({"points": 100, "coupon": "x"}, "coupon"),
    ]:
        response = await client.post(
            f"/v1/customers/{customer_id}/redemptions",
            json=payload,
            headers={"Idempotency-Key": new_id("k")},
        )
        assert response.status_code == 422, payload
        fields = [f["field"] for f in response.json()["error"]["fields"]]
        assert fields == [field], payload

    unknown = await _redeem(client, new_id("nobody"), 100, new_id("k"))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    unauthenticated = await client.post(
        f"/v1/customers/{customer_id}/redemptions",
        json={"points": 100},
        headers={"Idempotency-Key": new_id("k"), "Authorization": ""},
    )
    assert unauthenticated.status_code == 401
    assert (await points_of(client, customer_id))["balance"] == 1200
