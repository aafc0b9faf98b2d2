from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.engagement.rules.silence import (
    SilenceExtended,
    extend_silence,
    is_silenced,
    silence_after_complaint,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_complaint_silences_for_30_days_from_its_business_time() -> None:
    until = extend_silence(None, NOW - 2 * DAY)

    assert until == NOW + 28 * DAY
    assert is_silenced(until, NOW)


def test_a_complaint_backdated_31_days_does_not_silence() -> None:
    until = extend_silence(None, NOW - 31 * DAY)

    assert until == NOW - DAY
    assert not is_silenced(until, NOW)


def test_silence_ends_at_until() -> None:
    until = extend_silence(None, NOW)
    assert is_silenced(until, until - timedelta(microseconds=1))
    assert not is_silenced(until, until)


def test_a_second_complaint_extends_the_silence() -> None:
    first = extend_silence(None, NOW)
    second = extend_silence(first, NOW + 10 * DAY)

    assert second == NOW + 40 * DAY
    assert is_silenced(second, NOW + 35 * DAY)


def test_an_older_complaint_does_not_shorten_the_silence() -> None:
    current = extend_silence(None, NOW)
    assert extend_silence(current, NOW - 5 * DAY) == current


def test_a_duplicate_complaint_changes_nothing() -> None:
    current = extend_silence(None, NOW)
    assert extend_silence(current, NOW) == current


def test_silence_length_is_configurable() -> None:
    assert extend_silence(None, NOW, days=7) == NOW + 7 * DAY


def test_never_silenced_customer() -> None:
    assert not is_silenced(None, NOW)


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="complaint_time"):
        extend_silence(None, datetime(2025, 3, 1))
    with pytest.raises(ValueError, match="now"):
        is_silenced(NOW, datetime(2025, 3, 1))
    with pytest.raises(ValueError, match="days"):
        extend_silence(None, NOW, days=0)


def test_a_complaint_extends_and_announces_only_a_silence_in_force() -> None:
    started = silence_after_complaint(None, NOW - 2 * DAY, NOW, days=30)
    assert started == SilenceExtended(NOW + 28 * DAY, in_force=True)
    assert silence_after_complaint(started.until, NOW - 5 * DAY, NOW, days=30) is None
    backdated = silence_after_complaint(None, NOW - 31 * DAY, NOW, days=30)
    assert backdated == SilenceExtended(NOW - DAY, in_force=False)
