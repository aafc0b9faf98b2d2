"""How long a consumer lets the broker hold its next fetch, as records come and go."""

from __future__ import annotations

from shared.messaging.consumer import _FetchWait


def _waits(wait: _FetchWait, fetches: list[int]) -> list[int]:
    seen = []
    for records in fetches:
        wait.after_fetch(records)
        seen.append(wait.ms)
    return seen


def test_empty_fetches_double_the_wait_up_to_the_idle_wait() -> None:
    wait = _FetchWait(busy_ms=10, idle_ms=3000)
    assert _waits(wait, [0] * 10) == [20, 40, 80, 160, 320, 640, 1280, 2560, 3000, 3000]
    assert wait.at_rest
    assert wait.getmany_timeout_ms == 3000  # one loop per fetch: stopping cancels the wait


def test_a_stream_brings_the_wait_back_to_busy_at_once() -> None:
    wait = _FetchWait(busy_ms=10, idle_ms=3000)
    _waits(wait, [0] * 10)
    assert _waits(wait, [500]) == [10]
    assert not wait.at_rest
    assert wait.getmany_timeout_ms == 10


def test_a_trickle_halves_the_wait_and_never_goes_below_busy() -> None:
    wait = _FetchWait(busy_ms=10, idle_ms=3000)
    _waits(wait, [0] * 10)
    assert _waits(wait, [1, 1, 2, 0, 1]) == [1500, 750, 375, 750, 375]
    assert _waits(wait, [1] * 8)[-1] == 10


def test_a_short_idle_wait_still_loops_at_most_once_a_second_at_rest() -> None:
    wait = _FetchWait(busy_ms=10, idle_ms=50)
    _waits(wait, [0] * 5)
    assert wait.at_rest
    assert wait.getmany_timeout_ms == 1000  # records end the wait at once, whatever it is


def test_changes_are_reported_so_the_consumer_only_sets_the_wait_when_it_moves() -> None:
    wait = _FetchWait(busy_ms=10, idle_ms=200)
    assert wait.after_fetch(0) is True
    assert wait.after_fetch(50) is True
    assert wait.after_fetch(50) is False
