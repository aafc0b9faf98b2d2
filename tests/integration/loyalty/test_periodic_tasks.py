"""Expiry at exactly three years and the monthly tier review, with a FixedClock."""

import json
from datetime import UTC, datetime, timedelta

from services.loyalty.tasks import periodic_tasks
from shared.clock import FixedClock
from tests.integration.loyalty.helpers import (
    T0,
    assert_ledger_consistent,
    ledger_of,
    points_of,
    wait_for_points,
)
from tests.support import builders
from tests.support.builders import new_id
from tests.support.events import publish, read_topic


def _task(loyalty, name):
    [task] = [t for t in periodic_tasks(loyalty.runtime.context) if t.name == name]
    return task


async def test_a_lot_expires_at_exactly_three_years_not_a_second_before(broker, service):
    customer_id = new_id("c")
    expires_at = T0.replace(year=T0.year + 3)
    clock = FixedClock(T0 + timedelta(hours=1))
    async with service("loyalty", clock=clock, tasks_enabled=False) as loyalty:
        await publish(
            broker.bootstrap,
            # 200 points, expiring in 3 years
            builders.order_placed(customer_id, order_id=new_id("o"), amount="100", at=T0),
            builders.order_placed(
                customer_id, order_id=new_id("o"), amount="30", at=T0 + timedelta(days=1)
            ),
        )
        await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] == 230)
        expire = _task(loyalty, "expire-points")

        clock.set(expires_at - timedelta(seconds=1))
        await loyalty.runtime.run_task_once(expire)
        body = await points_of(loyalty.client, customer_id)
        assert (body["balance"], body["available"]) == (230, 230)
        assert body["expiring_30d"] == [
            {"points": 200, "expires_at": "2028-03-10T04:00:00Z"},
            {"points": 30, "expires_at": "2028-03-11T04:00:00Z"},
        ]
        assert body["expiring_30d_total"] == 230

        clock.set(expires_at)
        await loyalty.runtime.run_task_once(expire)
        body = await points_of(loyalty.client, customer_id)
        assert (body["balance"], body["available"], body["expiring_30d_total"]) == (30, 30, 30)
        [entry, *_] = await ledger_of(loyalty.client, customer_id)
        assert (entry["kind"], entry["points"], entry["balance_after"]) == ("expire", -200, 30)
        assert entry["business_time"] == "2028-03-10T04:00:00Z"
        [expired] = [
            json.loads(r.value)
            for r in await read_topic(broker.bootstrap, "points.expired")
            if r.key.decode() == customer_id
        ]
        assert (expired["data"]["points"], expired["data"]["balance"]) == (200, 30)

        await loyalty.runtime.run_task_once(expire)  # nothing more is due
        assert (await points_of(loyalty.client, customer_id))["balance"] == 30
        await assert_ledger_consistent(loyalty.client, customer_id)


async def test_the_monthly_review_downgrades_one_tier_a_month(broker, service):
    customer_id, order_id = new_id("c"), new_id("o")
    clock = FixedClock(T0 + timedelta(hours=1))
    async with service("loyalty", clock=clock, tasks_enabled=False) as loyalty:
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=order_id, amount="12000", at=T0),
        )
        await wait_for_points(loyalty.client, customer_id, lambda b: b["tier"] == "gold")
        await publish(
            broker.bootstrap,
            builders.order_refunded(customer_id, order_id, amount="12000.00", at=T0),
        )
        await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] == 0)
        review = _task(loyalty, "tier-review")

        await loyalty.runtime.run_task_once(review)  # reviewed in March already: opened then
        assert (await points_of(loyalty.client, customer_id))["tier"] == "gold"

        clock.set(datetime(2025, 3, 31, 16, 0, tzinfo=UTC))  # April 1st, 00:00 in Shanghai
        await loyalty.runtime.run_task_once(review)
        assert (await points_of(loyalty.client, customer_id))["tier"] == "silver"
        await loyalty.runtime.run_task_once(review)  # once a month, however often it runs
        assert (await points_of(loyalty.client, customer_id))["tier"] == "silver"

        clock.set(datetime(2025, 5, 2, tzinfo=UTC))
        await loyalty.runtime.run_task_once(review)
        assert (await points_of(loyalty.client, customer_id))["tier"] == "bronze"

        changes = [
            json.loads(r.value)["data"]
            for r in await read_topic(broker.bootstrap, "tier.changed", expect=3)
            if r.key.decode() == customer_id
        ]
        assert [(c["old_tier"], c["new_tier"], c["reason"]) for c in changes] == [
            ("bronze", "gold", "upgrade"),
            ("gold", "silver", "downgrade_review"),
            ("silver", "bronze", "downgrade_review"),
        ]
        assert changes[1]["net_spend_12m"] == "0.00"


async def test_the_ledger_refuses_updates_and_deletes(broker, service):
    from sqlalchemy import text

    customer_id = new_id("c")
    async with service("loyalty") as loyalty:
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=new_id("o"), amount="10", at=T0),
        )
        await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] == 20)
        for statement in (
            "UPDATE ledger_entries SET points = 1000000",
            "DELETE FROM ledger_entries",
        ):
            try:
                async with loyalty.runtime.transaction() as tx:
                    await tx.session.execute(text(statement))
            except Exception as exc:
                assert "append-only" in str(exc)
            else:
                raise AssertionError(f"{statement} was allowed")
        assert (await points_of(loyalty.client, customer_id))["balance"] == 20
