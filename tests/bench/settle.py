"""Reading the running services' consumer state: lag now, and a wait until they caught up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from tests.bench.metrics import OUTBOX_BACKLOG, Snapshot, scrape
from tests.bench.stack import Service


async def snapshots(services: Mapping[str, Service]) -> dict[str, Snapshot | None]:
    """Every service's /metrics now (None for one that did not answer)."""

    async def one(service: Service) -> Snapshot | None:
        try:
            async with service.client() as client:
                return await scrape(client, timeout=3)
        except (OSError, TimeoutError, RuntimeError, ValueError):
            return None

    results = await asyncio.gather(*(one(service) for service in services.values()))
    return dict(zip(services, results, strict=True))


def caught_up(snapshot: Snapshot | None, expected: Mapping[str, int]) -> bool:
    """Every expected topic finished (``"*"``: all topics together), lag reported and zero,
    outbox empty."""
    if snapshot is None:
        return False
    finished = {t: snapshot.finished(None if t == "*" else t) for t in expected}
    if any(finished[topic] < count for topic, count in expected.items()):
        return False
    return snapshot.lag_series() > 0 and snapshot.lag() == 0 and snapshot.total(OUTBOX_BACKLOG) == 0


async def wait_caught_up(
    services: Mapping[str, Service],
    timeout_s: float,
    expected: Mapping[str, Mapping[str, int]] | None = None,
    poll_s: float = 0.5,
) -> tuple[dict[str, bool], float]:
    """Poll until every service caught up (``expected``: service -> topic -> events it must
    have finished) or time is up; which ones did, and the seconds waited."""
    expected = expected or {}
    started = time.perf_counter()
    while True:
        state = await snapshots(services)
        done = {name: caught_up(snap, expected.get(name, {})) for name, snap in state.items()}
        waited = time.perf_counter() - started
        if all(done.values()) or waited > timeout_s:
            return done, waited
        await asyncio.sleep(poll_s)
