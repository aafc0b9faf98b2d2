"""POST /v1/events: the CloudEvents HTTP binding's three modes, each event checked as a consumer
checks it, the good ones written to the outbox as they came, the bad ones answered with why;
rate-limited per API key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared.tables import outbox
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

STRUCTURED = {"content-type": "application/cloudevents+json"}
BATCH = {"content-type": "application/cloudevents-batch+json"}


@pytest.fixture
async def profile(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    async with service_harness(
        "profile", tmp_path, ingest_rate_per_s=1, ingest_burst=20, ingest_max_events=10
    ) as harness:
        yield harness


async def outbox_rows(profile: ServiceHarness) -> list[tuple[str, str, dict[str, Any]]]:
    async with profile.runtime.sessions() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()
    return [(row.topic, row.key, json.loads(row.payload)) for row in rows]


async def test_one_structured_event_is_published_as_it_came(profile: ServiceHarness) -> None:
    order = builders.order_placed("c-1", amount="1299.10", order_id="o-1")
    order["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    answer = await profile.client.post("/v1/events", content=json.dumps(order), headers=STRUCTURED)

    assert answer.status_code == 202, answer.text
    assert answer.json() == {
        "accepted": 1,
        "rejected": 0,
        "events": [
            {
                "index": 0,
                "id": order["id"],
                "type": "order.placed",
                "status": "accepted",
                "reason": None,
                "field": None,
                "message": None,
            }
        ],
    }
    [(topic, key, sent)] = await outbox_rows(profile)
    assert (topic, key) == ("order.placed", "c-1")
    for attribute in ("id", "source", "type", "subject", "traceparent"):
        assert sent[attribute] == order[attribute]
    assert datetime.fromisoformat(sent["time"]) == datetime.fromisoformat(order["time"])
    assert sent["data"]["amount"] == "1299.10"  # exact: never through a float


async def test_a_batch_takes_the_good_events_and_says_why_not_the_others(
    profile: ServiceHarness,
) -> None:
    good = builders.customer_registered("c-1", name="Li Wei")
    no_amount = builders.order_placed("c-1")
    del no_amount["data"]["amount"]
    service_event = builders.segment_changed("c-1", old_segment=None, new_segment="new")
    no_time = builders.product_viewed("c-1", sku="s", category="beauty")
    del no_time["time"]
    batch = [good, no_amount, service_event, no_time, "not an event"]
    answer = await profile.client.post("/v1/events", content=json.dumps(batch), headers=BATCH)

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["accepted"], body["rejected"]) == (1, 4)
    assert [(e["status"], e["reason"], e["field"]) for e in body["events"]] == [
        ("accepted", None, None),
        ("rejected", "invalid_data", "data.amount"),
        ("rejected", "unknown_type", "type"),
        ("rejected", "invalid_envelope", "time"),
        ("rejected", "bad_json", ""),
    ]
    assert [(topic, key) for topic, key, _ in await outbox_rows(profile)] == [
        ("customer.registered", "c-1")
    ]


async def test_binary_mode_takes_the_attributes_from_headers(profile: ServiceHarness) -> None:
    event_id = new_id("e")
    headers = {
        "content-type": "application/json",
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "storefront",
        "ce-type": "product.viewed",
        "ce-time": "2026-06-01T10:00:00+08:00",
        "ce-subject": "c-9",
    }
    data = {"customer_id": "c-9", "sku": "sku-1", "category": "beauty"}
    answer = await profile.client.post("/v1/events", content=json.dumps(data), headers=headers)

    assert answer.status_code == 202, answer.text
    [(topic, key, sent)] = await outbox_rows(profile)
    assert (topic, key, sent["id"], sent["data"]) == ("product.viewed", "c-9", event_id, data)


async def test_a_request_with_no_good_event_is_a_422_naming_each_field(
    profile: ServiceHarness,
) -> None:
    bad = builders.order_placed("c-1")
    bad["data"]["amount"] = "-5"
    single = await profile.client.post("/v1/events", content=json.dumps(bad), headers=STRUCTURED)
    batch = await profile.client.post("/v1/events", content=json.dumps([bad]), headers=BATCH)

    assert single.status_code == batch.status_code == 422
    assert [f["field"] for f in single.json()["error"]["fields"]] == ["data.amount"]
    assert [f["field"] for f in batch.json()["error"]["fields"]] == ["[0].data.amount"]
    assert batch.json()["error"]["details"]["rejected"] == 1
    assert await outbox_rows(profile) == []


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"{}", {"content-type": "text/plain"}, 415),
        (b"{not json", STRUCTURED, 422),
        (b"{}", BATCH, 422),  # a batch is an array
        (b"[]", BATCH, 422),  # of at least one event
        (json.dumps([builders.product_viewed("c", sku="s", category="x")] * 11), BATCH, 422),
    ],
)
async def test_a_body_that_holds_no_events_is_refused(
    profile: ServiceHarness, body: bytes | str, headers: dict[str, str], status: int
) -> None:
    answer = await profile.client.post("/v1/events", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"]


async def test_over_the_keys_rate_the_answer_is_429_with_retry_after(
    profile: ServiceHarness,
) -> None:
    views = [builders.product_viewed("c-1", sku=f"s-{n}", category="beauty") for n in range(10)]
    first = await profile.client.post("/v1/events", content=json.dumps(views), headers=BATCH)
    second = await profile.client.post("/v1/events", content=json.dumps(views), headers=BATCH)
    third = await profile.client.post("/v1/events", content=json.dumps(views), headers=BATCH)

    assert (first.status_code, second.status_code, third.status_code) == (202, 202, 429)
    assert int(third.headers["retry-after"]) >= 1
    assert third.json()["error"]["code"] == "rate_limited"
    assert len(await outbox_rows(profile)) == 20
