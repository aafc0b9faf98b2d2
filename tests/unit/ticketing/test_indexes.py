"""The hot reads find their rows through an index in the order they need (SQLite's plan)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from services.ticketing.tasks import BREACH_SCAN
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness


@contextmanager
def captured(svc: ServiceHarness, table: str) -> Iterator[list[tuple[str, Any]]]:
    """The SELECTs from `table` the service runs inside the block, with their parameters."""
    engine = svc.runtime.engine.sync_engine
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("SELECT") and f"FROM {table}" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def plans(svc: ServiceHarness, statements: list[tuple[str, Any]]) -> list[str]:
    async with svc.runtime.engine.connect() as connection:
        return [
            " / ".join(
                row[-1]
                for row in await connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters
                )
            )
            for statement, parameters in statements
        ]


async def test_the_queue_reads_its_index_in_work_order(tmp_path):
    async with service_harness("ticketing", tmp_path) as svc:
        with captured(svc, "tickets") as statements:
            assert (await svc.client.get("/v1/queue", params={"limit": 5})).status_code == 200
        page_query = [s for s in statements if "LIMIT" in s[0]]

        [plan] = await plans(svc, page_query)

    assert "ix_tickets_open_work_order" in plan
    assert "TEMP B-TREE" not in plan  # no sort: the index is in work order


async def test_a_run_finds_its_customers_open_tickets_by_customer(tmp_path):
    async with service_harness("ticketing", tmp_path) as svc:
        with captured(svc, "tickets") as statements:
            await svc.deliver(builders.tier_changed(new_id("c"), new_tier="gold"))

        [plan] = await plans(svc, statements)

    assert "ix_tickets_customer_status (customer_id=? AND status=?)" in plan


async def test_the_breach_scan_reads_the_index_of_tickets_awaiting_a_first_response(tmp_path):
    async with service_harness("ticketing", tmp_path) as svc:
        with captured(svc, "tickets") as statements:
            await svc.run_task(BREACH_SCAN)

        [plan] = await plans(svc, statements)

    assert "ix_tickets_awaiting_first_response (response_due_at<?)" in plan
    assert "TEMP B-TREE" not in plan
