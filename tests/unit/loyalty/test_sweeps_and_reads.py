"""The periodic tasks sweep in chunks, back to back, until nothing is due; the points summary
reads the same few rows by key however long the customer's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.clock import FixedClock
from tests.support.builders import new_id
from tests.support.harness import service_harness
from tests.unit.loyalty.test_handlers import T0, order, refund
from tests.unit.loyalty.test_runs import statements

THREE_YEARS_ON = T0.replace(year=T0.year + 3)


async def test_the_expiry_sweep_takes_every_due_account_a_chunk_at_a_time(tmp_path):
    customers = [new_id("c") for _ in range(5)]
    clock = FixedClock(T0)
    async with service_harness("loyalty", tmp_path, clock=clock, task_batch_size=2) as svc:
        await svc.deliver(*(order(c, new_id("o"), "100.00") for c in customers))
        clock.set(THREE_YEARS_ON)

        with statements(svc) as seen:
            await svc.run_task("expire-points")

        expired = await svc.published("points.expired")
        assert sorted(e.subject for e in expired) == sorted(customers)
        assert {e.data["points"] for e in expired} == {200}
        assert seen["BEGIN IMMEDIATE"] == 3  # chunks of 2, 2 and 1
        for customer_id in customers:
            body = (await svc.client.get(f"/v1/customers/{customer_id}/points")).json()
            assert (body["balance"], body["available"]) == (0, 0)
        await svc.forget_published()
        await svc.run_task("expire-points")
        assert await svc.published() == []


async def test_the_tier_review_takes_every_account_due_a_chunk_at_a_time(tmp_path):
    customers = [new_id("c") for _ in range(5)]
    clock = FixedClock(T0)
    async with service_harness("loyalty", tmp_path, clock=clock, task_batch_size=2) as svc:
        for customer_id in customers:
            order_id = new_id("o")
            await svc.deliver(
                order(customer_id, order_id, "12000.00"),
                refund(customer_id, order_id, "12000.00", T0 + timedelta(minutes=1)),
            )
        await svc.forget_published()
        clock.set(datetime(2025, 3, 31, 16, 0, tzinfo=UTC))  # April 1st in Shanghai

        await svc.run_task("tier-review")
        await svc.run_task("tier-review")  # once a month, however often it runs

        changes = await svc.published("tier.changed")
        assert sorted(e.subject for e in changes) == sorted(customers)
        assert {(e.data["old_tier"], e.data["new_tier"]) for e in changes} == {("gold", "silver")}


async def test_the_points_summary_reads_a_few_rows_by_key_whatever_the_history(tmp_path):
    newcomer, regular = new_id("c"), new_id("c")
    clock = FixedClock(T0)
    async with service_harness("loyalty", tmp_path, clock=clock) as svc:
        await svc.deliver(order(newcomer, new_id("o"), "50.00"))
        for month in range(30):
            at = T0 + timedelta(days=30 * month)
            await svc.deliver(*(order(regular, new_id("o"), "40.00", at) for _ in range(3)))
        clock.set(T0 + timedelta(days=900))

        reads = []
        for customer_id in (newcomer, regular):
            with statements(svc) as seen:
                response = await svc.client.get(f"/v1/customers/{customer_id}/points")
            assert response.status_code == 200
            reads.append({k: n for k, n in seen.items() if k.startswith("SELECT")})

        assert reads[0] == reads[1]
        assert sum(reads[1].values()) == 4  # rulebook, account, lots due or expiring, months
        body = response.json()
        # The tier window is this business month and the 11 before it: 11 or 12 months of
        # three 40-yuan orders, as the months fall.
        assert body["tier_progress"]["net_spend_12m"] in {"1320.00", "1440.00"}
        assert body["expiring_30d_total"] == sum(e["points"] for e in body["expiring_30d"])
