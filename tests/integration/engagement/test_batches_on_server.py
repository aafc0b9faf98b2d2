"""Runs of events on the real database (PostgreSQL when LOOPCRM_TEST_DATABASE_URL names a
server): the set-based statements (locked reads, upserts, inserts that skip a dedupe key
taken) give what the same events give one per transaction."""

from __future__ import annotations

from pathlib import Path

from shared.clock import FixedClock
from tests.support import builders
from tests.support.harness import service_harness
from tests.unit.engagement.test_batches import mixed_run, state
from tests.unit.engagement.test_handlers import complaint


async def test_a_run_gives_what_the_same_events_give_one_at_a_time(tmp_path: Path) -> None:
    events = [*mixed_run(), complaint("c-1", builders.T0, "t-1")]  # again, new id
    states = []
    for name, deliver in (("run", "deliver"), ("each", "deliver_each")):
        directory = tmp_path / name
        directory.mkdir()
        clock = FixedClock(builders.T0)
        async with service_harness("engagement", directory, clock=clock, on_server=True) as svc:
            outcomes = await getattr(svc, deliver)(*events)
            assert outcomes == ["handled"] * len(events)
            states.append(await state(svc))
    batched, one_by_one = states
    assert batched == one_by_one
    notices = [m for m in batched["messages"] if m["dedupe_key"] == "complaint_follow_up:t-1"]
    assert len(notices) == 1
