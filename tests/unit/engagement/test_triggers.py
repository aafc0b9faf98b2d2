"""Triggers (playbooks, CSAT coupons), newest-wins facts and delivery retries, as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.engagement.rules.delivery import DeliveryPolicy
from services.engagement.rules.facts import newer_facts, supersedes
from services.engagement.rules.policy import EngagementPolicy
from services.engagement.rules.triggers import (
    earns_csat_coupon,
    enters_segment,
    is_fresh,
    runs_playbook,
)
from shared.backoff import Backoff

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = EngagementPolicy()


def test_a_trigger_is_fresh_for_72_hours() -> None:
    assert is_fresh(NOW - 72 * HOUR, NOW, POLICY)
    assert not is_fresh(NOW - 72 * HOUR - timedelta(seconds=1), NOW, POLICY)
    assert is_fresh(NOW + HOUR, NOW, POLICY)  # stamped ahead of our clock: still fresh
    assert not is_fresh(NOW - 2 * HOUR, NOW, EngagementPolicy(trigger_max_age_hours=1))


def test_a_coupon_needs_a_csat_of_at_least_4() -> None:
    assert [earns_csat_coupon(csat, POLICY) for csat in (None, 1, 3, 4, 5)] == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_a_playbook_runs_once_per_repeat_window_of_entries() -> None:
    day = timedelta(days=1)
    assert runs_playbook(None, NOW, POLICY)
    assert not runs_playbook(NOW, NOW + timedelta(milliseconds=100), POLICY)
    assert not runs_playbook(NOW, NOW + 30 * day - timedelta(seconds=1), POLICY)
    assert runs_playbook(NOW, NOW + 30 * day, POLICY)
    # An entry arriving late, a day before the one that ran the playbook, is the same welcome.
    assert not runs_playbook(NOW, NOW - day, POLICY)
    assert runs_playbook(NOW, NOW + 8 * day, EngagementPolicy(playbook_repeat_days=7))


def test_a_playbook_runs_on_entering_a_segment_only() -> None:
    assert enters_segment(None, "loyal") and enters_segment("potential", "loyal")
    assert not enters_segment("loyal", "loyal")


def test_newer_or_same_time_facts_win() -> None:
    assert supersedes(NOW, None) and supersedes(NOW, NOW)
    assert not supersedes(NOW - HOUR, NOW)
    set_at = {"email": NOW.isoformat(), "consent.sms": (NOW - 2 * HOUR).isoformat()}
    given = {"email": "old@example.com", "consent.sms": True, "phone": "139"}
    assert newer_facts(given, set_at, NOW - HOUR) == {"consent.sms": True, "phone": "139"}


def test_retries_back_off_then_give_up() -> None:
    policy = DeliveryPolicy(max_attempts=3, backoff=Backoff(initial_s=10, maximum_s=15))
    assert policy.retry_at(1, NOW) == NOW + timedelta(seconds=10)
    assert policy.retry_at(2, NOW) == NOW + timedelta(seconds=15)
    assert policy.retry_at(3, NOW) is None
    assert policy.lease_until(NOW) == NOW + timedelta(seconds=120)


@pytest.mark.parametrize("fields", [{"trigger_max_age_hours": 0}, {"coupon_min_csat": 0}])
def test_invalid_trigger_policy_is_rejected(fields: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(fields))):
        EngagementPolicy(**fields)
