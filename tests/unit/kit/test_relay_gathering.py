"""When the outbox relay counts as busy (and lingers between rounds): only once the last
second's rounds add up to a steady stream, never for a complaint and its few follow-ups; and
a prompt commit (an API call, an urgent run) ends the lingering at once."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

from shared.outbox import _BUSY_EVENTS_PER_S, OutboxRelay, _busy


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
