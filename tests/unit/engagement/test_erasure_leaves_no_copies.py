"""After customer.erased, no byte of the customer's contact data is left in engagement's
SQLite files (the write-ahead log included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.databases import files_holding
from tests.support.harness import service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
EMAIL, PHONE = "xiuying.zhang@example.com", "+8613987654321"


async def test_an_erased_customer_leaves_no_contact_data_in_the_files(tmp_path: Path) -> None:
    customer_id = new_id("c")
    clock = FixedClock(T0 + timedelta(minutes=30))
    async with service_harness("engagement", tmp_path, clock=clock) as engagement:
        await engagement.deliver(
            builders.customer_registered(customer_id, email=EMAIL, phone=PHONE, at=T0)
        )
        assert files_holding(tmp_path, EMAIL)

        erased = builders.customer_erased(customer_id, at=T0 + timedelta(minutes=5))
        assert await engagement.deliver(erased) == ["handled"]
        for personal in (EMAIL, PHONE):
            assert files_holding(tmp_path, personal) == [], personal
