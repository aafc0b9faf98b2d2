"""When the outbox relay counts as busy (and lingers between rounds): only once the last
second's rounds add up to a steady stream, never for a complaint and its few follow-ups; and
a prompt commit (an API call, an urgent run) ends the lingering at once. And when it counts
its backlog: not after a round that found the outbox empty."""

from __future__ import annotations

import asyncio
import collections
from datetime import UTC, datetime
from typing import Any

from shared.clock import FixedClock
from shared.metrics import ServiceMetrics
from shared.outbox import _BACKLOG_EVERY_S, _BUSY_EVENTS_PER_S, OutboxRelay, _busy


def test_a_few_events_in_a_row_never_count_as_busy():
    recent: collections.deque[tuple[float, int]] = collections.deque()
    assert not any(_busy(recent, 0.01 * n, 3) for n in range(10))


def test_a_steady_stream_counts_as_busy_once_a_second_of_it_adds_up():
    recent: collections.deque[tuple[float, int]] = collections.deque()
    busy = [_busy(recent, 0.1 * n, 20) for n in range(8)]
    assert busy.index(True) == _BUSY_EVENTS_PER_S // 20 - 1


def test_rounds_older_than_a_second_are_forgotten():
    recent: collections.deque[tuple[float, int]] = collections.deque()
    assert _busy(recent, 0.0, _BUSY_EVENTS_PER_S)
    assert not _busy(recent, 1.5, 1)
    assert list(recent) == [(1.5, 1)]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _lingering_relay() -> OutboxRelay:
    # Gathering touches neither the database nor the broker.
    unused: Any = None
    return OutboxRelay(unused, unused, unused, unused, unused, linger=3600.0)


async def test_a_steady_run_committing_does_not_cut_the_gathering_short():
    relay = _lingering_relay()
    gathering = asyncio.create_task(relay._gather())
    await _settle()
    relay.notify(prompt=False)
    await _settle()
    assert not gathering.done()
    relay.stop()
    await gathering


async def test_a_prompt_commit_ends_the_gathering_at_once():
    relay = _lingering_relay()
    gathering = asyncio.create_task(relay._gather())
    await _settle()
    relay.notify()
    await _settle()
    assert gathering.done()


class _CountingSessions:
    """Stands for the session factory: counts the backlog queries the relay would make."""

    def __init__(self) -> None:
        self.opened = 0

    def __call__(self) -> Any:
        self.opened += 1
        raise ConnectionError("no database in this test")


def _observing_relay() -> tuple[OutboxRelay, _CountingSessions, ServiceMetrics]:
    sessions, metrics = _CountingSessions(), ServiceMetrics("test")
    unused: Any = None
    relay = OutboxRelay(
        unused, sessions, unused, metrics, FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    )
    return relay, sessions, metrics


def _gauge(metrics: ServiceMetrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name)


async def test_a_round_that_finds_the_outbox_empty_sets_the_backlog_to_zero_without_a_query():
    relay, sessions, metrics = _observing_relay()
    metrics.outbox_backlog.set(40)
    metrics.outbox_oldest_age.set(12.5)
    await relay._observe_backlog(0)
    assert sessions.opened == 0
    assert _gauge(metrics, "loopcrm_outbox_backlog") == 0
    assert _gauge(metrics, "loopcrm_outbox_oldest_age_seconds") == 0


async def test_rounds_that_move_events_count_the_rows_at_most_every_few_seconds():
    relay, sessions, _ = _observing_relay()
    await relay._observe_backlog(200)
    await relay._observe_backlog(200)
    assert sessions.opened == 1
    relay._backlog_seen_at = relay._backlog_seen_at - _BACKLOG_EVERY_S
    await relay._observe_backlog(200)
    assert sessions.opened == 2


async def test_a_round_that_did_not_read_the_outbox_counts_the_rows():
    relay, sessions, _ = _observing_relay()
    await relay._observe_backlog(None)
    assert sessions.opened == 1
