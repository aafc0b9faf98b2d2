"""The segmentation service on the real broker: storefront events in, segments and events out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.segmentation.tasks import segment_sweep
from shared.clock import FixedClock
from tests.support.events import new_id, publish, read_topic, storefront_event
from tests.support.polling import eventually

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def order_placed(customer_id: str, amount: str, at: datetime, order_id: str) -> dict[str, Any]:
    data = {
        "customer_id": customer_id,
        "order_id": order_id,
        "amount": amount,
        "currency": "CNY",
        "items": [{"sku": "sku-1", "category": "kitchen", "quantity": 1, "unit_price": amount}],
        "channel": "online",
    }
    return storefront_event("order.placed", data, time=at)


async def segment_of(client: httpx.AsyncClient, customer_id: str, expected: str) -> dict[str, Any]:
    response = await eventually(
        lambda: client.get(f"/v1/customers/{customer_id}/segment"),
        lambda r: r.status_code == 200 and r.json()["segment"] == expected,
    )
    return response.json()  # type: ignore[no-any-return]


async def orders_counted(client: httpx.AsyncClient, customer_id: str, frequency: int) -> None:
    await eventually(
        lambda: client.get(f"/v1/customers/{customer_id}/segment"),
        lambda r: r.status_code == 200 and r.json()["frequency"] == frequency,
    )


async def segment_changes(bootstrap: str, customer_id: str, expect: int) -> list[Any]:
    records = await read_topic(bootstrap, "segment.changed", expect=expect)
    events = [json.loads(record.value) for record in records]
    return [event for event in events if event["subject"] == customer_id]


async def test_orders_and_a_refund_move_a_customer_through_segments(broker, service) -> None:
    customer = new_id("c")
    order_ids = [new_id("o") for _ in range(4)]
    async with service("segmentation", clock=FixedClock(T0)) as segmentation:
        # One order at a time: a run of a customer's orders is decided once, at its end.
        for count, (days, order_id) in enumerate(zip((24, 14, 4, 0), order_ids, strict=True)):
            await publish(
                broker.bootstrap, order_placed(customer, "150.00", T0 - (days + 1) * DAY, order_id)
            )
            await orders_counted(segmentation.client, customer, count + 1)
        loyal = await segment_of(segmentation.client, customer, "loyal")
        assert loyal == {
            "customer_id": customer,
            "segment": "loyal",
            "recency_days": 1,
            "frequency": 4,
            "monetary": "600.00",
            "since": "2026-06-15T12:00:00Z",
            "evaluated_at": "2026-06-15T12:00:00Z",
        }

        refund = {"customer_id": customer, "order_id": order_ids[0], "amount": "100.01"}
        await publish(
            broker.bootstrap,
            storefront_event("order.refunded", {**refund, "reason": "quality_defect"}, time=T0),
        )
        regular = await segment_of(segmentation.client, customer, "regular")
        assert regular["monetary"] == "499.99"

        changes = await segment_changes(broker.bootstrap, customer, expect=4)
        assert [(e["data"]["old_segment"], e["data"]["new_segment"]) for e in changes] == [
            (None, "new"),
            ("new", "regular"),
            ("regular", "loyal"),
            ("loyal", "regular"),
        ]
        last = changes[-1]
        assert last["source"] == "loopcrm/segmentation" and last["type"] == "segment.changed"
        assert last["data"]["rfm"] == {"recency_days": 1, "frequency": 4, "monetary": "499.99"}


def order_refunded(customer_id: str, order_id: str, amount: str) -> dict[str, Any]:
    data = {"customer_id": customer_id, "order_id": order_id, "amount": amount, "reason": "other"}
    return storefront_event("order.refunded", data, time=T0)


async def test_a_duplicate_delivery_counts_once_and_erasure_forgets_the_customer(
    broker, service
) -> None:
    customer, first_id, second_id = new_id("c"), new_id("o"), new_id("o")
    first = order_placed(customer, "80.00", T0 - DAY, first_id)
    refund = order_refunded(customer, first_id, "30.00")
    async with service("segmentation", clock=FixedClock(T0)) as segmentation:
        client = segmentation.client
        await publish(
            broker.bootstrap,
            first,
            first,
            refund,
            refund,
            order_placed(customer, "20.00", T0, second_id),
            # Refunds add up, so only a deduplicated second delivery can lead to 69.99.
            order_refunded(customer, second_id, "0.01"),
        )
        body = (
            await eventually(
                lambda: client.get(f"/v1/customers/{customer}/segment"),
                lambda r: r.status_code == 200 and r.json()["monetary"] == "69.99",
            )
        ).json()
        assert body["frequency"] == 2

        erasure = {"customer_id": customer, "erased_at": T0.isoformat()}
        await publish(
            broker.bootstrap,
            storefront_event("customer.erased", erasure, time=T0, source="loopcrm/profile"),
        )
        gone = await eventually(
            lambda: client.get(f"/v1/customers/{customer}/segment"),
            lambda r: r.status_code == 404,
        )
        assert gone.json()["error"]["code"] == "not_found"
        segments = (await client.get("/v1/segments")).json()
        assert sum(segment["member_count"] for segment in segments) == 0


async def test_the_sweep_moves_a_quiet_customer_to_dormant(broker, service) -> None:
    customer = new_id("c")
    clock = FixedClock(T0)
    async with service("segmentation", clock=clock, tasks_enabled=False) as segmentation:
        await publish(broker.bootstrap, order_placed(customer, "120.00", T0, new_id("o")))
        await segment_of(segmentation.client, customer, "new")

        clock.advance(181 * DAY)
        await segmentation.runtime.run_task_once(
            segment_sweep(segmentation.runtime.context, interval_s=60)
        )

        dormant = await segment_of(segmentation.client, customer, "dormant")
        assert (dormant["recency_days"], dormant["since"]) == (181, "2026-12-13T12:00:00Z")
        changes = await segment_changes(broker.bootstrap, customer, expect=2)
        assert changes[-1]["data"]["old_segment"] == "new"
        assert changes[-1]["time"] == "2026-12-13T12:00:00Z"
