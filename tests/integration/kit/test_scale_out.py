"""Two processes of one service share its consumer group: the work is split between them and
every event still has exactly one effect (on PostgreSQL in CI: LOOPCRM_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shared.migrations import upgrade_async
from tests.support import builders
from tests.support.events import publish
from tests.support.processes import ServiceProcess
from tests.support.services import AUTH, service_parts

CUSTOMERS = 40
MAX_WAVES = 12  # 12 orders of 100 yuan stay below silver (2,000) and the daily cap


async def _handled(client: httpx.AsyncClient, url: str) -> float:
    text = (await client.get(f"{url}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "loopcrm_events_consumed_total"
        and sample.labels == {"topic": "order.placed", "outcome": "handled"}
    )


async def test_two_replicas_split_the_work_and_every_order_earns_once(broker, database, tmp_path):
    customers = [builders.new_id("c") for _ in range(CUSTOMERS)]
    _create_app, _settings, migrations = service_parts("loyalty")
    async with database("loyalty") as url:
        await upgrade_async(migrations, url)
        replicas = [
            ServiceProcess(
                "loyalty",
                bootstrap=broker.bootstrap,
                database_url=url,
                log_dir=tmp_path,
                extra_env={"LOOPCRM_TASKS_ENABLED": "false"},
            )
            for _ in range(2)
        ]
        for replica in replicas:
            await asyncio.to_thread(replica.start)
        try:
            async with httpx.AsyncClient(headers=AUTH, timeout=10) as client:
                waves = 0
                counts = [0.0, 0.0]
                deadline = asyncio.get_running_loop().time() + 90
                # Waves of one order per customer until both replicas have taken a share.
                while (
                    waves < MAX_WAVES
                    and (waves < 3 or min(counts) == 0)
                    and asyncio.get_running_loop().time() < deadline
                ):
                    waves += 1
                    await publish(
                        broker.bootstrap,
                        *(builders.order_placed(c, amount="100.00") for c in customers),
                    )
                    while sum(counts) < waves * CUSTOMERS:
                        assert asyncio.get_running_loop().time() < deadline, counts
                        await asyncio.sleep(0.2)
                        counts = [await _handled(client, r.url) for r in replicas]
                assert min(counts) > 0, f"one replica handled everything: {counts}"
                assert sum(counts) == waves * CUSTOMERS  # handled once, duplicates aside
                # First order doubled, then one point per yuan; bronze all along.
                expected = 200 + 100 * (waves - 1)
                for customer_id in customers:
                    url_ = f"{replicas[0].url}/v1/customers/{customer_id}/points"
                    points = (await client.get(url_)).json()
                    assert points["balance"] == expected, (customer_id, points)
        finally:
            for replica in replicas:
                await asyncio.to_thread(replica.stop)
