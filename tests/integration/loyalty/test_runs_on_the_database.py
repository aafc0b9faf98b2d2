"""Runs and sweeps on the service's real database (PostgreSQL with LOOPCRM_TEST_DATABASE_URL):
a long mixed history applied in runs stores and publishes what it does one event per
transaction, and the sweeps then expire and review every due account, chunk by chunk."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from shared.clock import FixedClock
from tests.support.harness import service_harness
from tests.unit.loyalty.test_handlers_in_one_transaction import NOW, history
from tests.unit.loyalty.test_runs import state


async def test_runs_and_sweeps_store_what_one_event_per_transaction_stores(tmp_path: Path):
    events = history(random.Random(8))
    (tmp_path / "runs").mkdir()
    (tmp_path / "each").mkdir()
    clocks = FixedClock(NOW), FixedClock(NOW)
    async with (
        service_harness(
            "loyalty", tmp_path / "runs", clock=clocks[0], on_server=True, task_batch_size=2
        ) as runs,
        service_harness("loyalty", tmp_path / "each", clock=clocks[1], on_server=True) as each,
    ):
        for start in range(0, len(events), 50):
            outcomes = await runs.deliver(*events[start : start + 50])
            assert outcomes == await each.deliver_each(*events[start : start + 50])
        assert await state(runs) == await state(each)

        for clock in clocks:
            clock.advance(timedelta(days=3 * 366))
        for task in ("expire-points", "tier-review"):
            await runs.run_task(task)
            await each.run_task(task)
        after = await state(runs)
        assert after == await state(each)
        assert any(entry["kind"] == "expire" for entry in after["ledger_entries"])
        assert any(event["type"] == "tier.changed" for event in after["published"])
        customer_id = after["accounts"][0]["customer_id"]
        points = (await runs.client.get(f"/v1/customers/{customer_id}/points")).json()
        assert points["balance"] == after["accounts"][0]["balance"]
