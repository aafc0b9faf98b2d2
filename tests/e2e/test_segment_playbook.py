"""Storefront orders → segmentation → engagement: a customer who becomes `loyal` gets the
loyal playbook's WeCom message, through the same consent, silence and cap checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.events import new_id, publish, storefront_event
from tests.support.polling import eventually

pytestmark = pytest.mark.e2e


async def test_four_recent_orders_make_a_customer_loyal_and_trigger_the_playbook(platform):
    customer_id = new_id("c")
    now = datetime.now(UTC)
    registered = storefront_event(
        "customer.registered",
        {
            "customer_id": customer_id,
            "consents": {"email": False, "sms": False, "push": False, "wecom": True},
        },
        time=now - timedelta(days=20),
    )
    orders = [
        storefront_event(
            "order.placed",
            {
                "order_id": new_id("o"),
                "customer_id": customer_id,
                "amount": "150.00",
                "currency": "CNY",
                "items": [],
            },
            time=now - timedelta(days=12 - 3 * n),
        )
        for n in range(4)
    ]
    async with platform.client("engagement") as engagement:
        await publish(platform.broker.bootstrap, registered)
        await eventually(
            lambda: engagement.get(f"/v1/customers/{customer_id}"),
            lambda r: r.status_code == 200,
        )
        await publish(platform.broker.bootstrap, *orders)

        async with platform.client("segmentation") as segmentation:
            segment = await eventually(
                lambda: segmentation.get(f"/v1/customers/{customer_id}/segment"),
                lambda r: r.status_code == 200 and r.json()["segment"] == "loyal",
            )
            assert segment.json()["frequency"] == 4

        messages = await eventually(
            lambda: engagement.get(f"/v1/customers/{customer_id}/messages"),
            lambda r: any(
                m["template"] == "new_product_trial" and m["outcome"] == "sent"
                for m in r.json()["items"]
            ),
        )
        trial = next(m for m in messages.json()["items"] if m["template"] == "new_product_trial")
        assert trial["channel"] == "wecom"
        assert trial["purpose"] == "marketing"
