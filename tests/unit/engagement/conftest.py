from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.clock import FixedClock
from tests.support import builders
from tests.support.harness import ServiceHarness, service_harness


@pytest.fixture
async def svc(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    """Engagement on the harness: a fixed clock at `builders.T0` and short delivery retries
    (3 attempts, 10 s doubling, a 60 s lease)."""
    async with service_harness(
        "engagement",
        tmp_path,
        clock=FixedClock(builders.T0),
        delivery_max_attempts=3,
        delivery_backoff_s=10,
        delivery_lease_s=60,
    ) as harness:
        yield harness
