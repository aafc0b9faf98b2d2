"""After an erasure no byte of the customer's personal data is left in the service's SQLite
files: deleted content is overwritten and the write-ahead log is checkpointed and emptied."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.databases import files_holding
from tests.support.harness import service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
NAME, EMAIL, PHONE = "Ouyang Mingzhu", "mingzhu.ouyang@example.com", "+8613912345678"


async def test_an_erased_customer_leaves_no_copy_in_the_database_files(tmp_path: Path) -> None:
    customer_id = new_id("c")
    clock = FixedClock(T0 + timedelta(minutes=30))
    async with service_harness("profile", tmp_path, clock=clock) as profile:
        await profile.deliver(
            builders.customer_registered(
                customer_id, name=NAME, email=EMAIL, phone=PHONE, birthday="1991-08-30", at=T0
            )
        )
        # A row of some size, rewritten a few times: its old versions are freed, not reused.
        for minute in range(1, 6):
            views = [
                builders.product_viewed(
                    customer_id,
                    sku=new_id("sku"),
                    category=f"category_{n}",
                    at=T0 + timedelta(minutes=minute),
                )
                for n in range(40)
            ]
            await profile.deliver(*views)
        assert files_holding(tmp_path, NAME)  # the probe finds what is there

        assert (await profile.client.delete(f"/v1/customers/{customer_id}")).status_code == 200
        for personal in (NAME, EMAIL, PHONE):
            assert files_holding(tmp_path, personal) == [], personal
