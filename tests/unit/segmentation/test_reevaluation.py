"""Re-evaluating a known customer, and which new facts are kept: the decisions the handlers
and the sweep apply."""

from __future__ import annotations

from datetime import timedelta

from services.segmentation.rules.facts import (
    erased_by,
    later_erasure,
    tags_to_keep,
    takes_tag_snapshot,
)
from services.segmentation.rules.reevaluation import MemberState, evaluation_moment, reevaluate
from tests.unit.segmentation.rule_inputs import NOW, POLICY, facts, order

HOUR = timedelta(hours=1)


def test_a_customer_is_evaluated_at_the_latest_of_now_the_event_and_the_last_evaluation() -> None:
    assert evaluation_moment(NOW) == NOW
    assert evaluation_moment(NOW, event_time=NOW - HOUR) == NOW
    assert evaluation_moment(NOW, event_time=NOW + HOUR) == NOW + HOUR
    assert evaluation_moment(NOW, last_evaluated=NOW + 2 * HOUR) == NOW + 2 * HOUR


def test_a_first_evaluation_changes_the_segment_from_none() -> None:
    outcome = reevaluate(MemberState(), facts([order(1)]), POLICY, now=NOW)

    assert (outcome.old_segment, outcome.evaluation.segment) == (None, "new")
    assert outcome.segment_changed and outcome.as_of == NOW and outcome.churn is None


def test_the_same_segment_again_is_no_change() -> None:
    state = MemberState(segment="new", evaluated_at=NOW - HOUR)

    assert not reevaluate(state, facts([order(1)]), POLICY, now=NOW).segment_changed


def test_a_streak_already_alerted_is_not_raised_again() -> None:
    falling = [order(age, amount) for age, amount in [(150, "900"), (120, "600"), (90, "300")]]
    falling.append(order(60, "10"))
    outcome = reevaluate(MemberState(), facts(falling), POLICY, now=NOW)
    assert outcome.churn is not None

    alerted = MemberState(churn_alerted_peak=outcome.churn.peak_month)
    assert reevaluate(alerted, facts(falling), POLICY, now=NOW).churn is None


def test_events_from_before_an_erasure_are_ignored() -> None:
    assert erased_by(NOW, NOW) and erased_by(NOW, NOW - HOUR)
    assert not erased_by(NOW, NOW + HOUR) and not erased_by(None, NOW)
    assert later_erasure(None, NOW) == NOW
    assert later_erasure(NOW, NOW - HOUR) == NOW


def test_only_a_newer_tag_snapshot_is_taken() -> None:
    assert takes_tag_snapshot(None, NOW) and takes_tag_snapshot(NOW, NOW)
    assert not takes_tag_snapshot(NOW, NOW - HOUR)


def test_behaviour_tags_are_kept_when_profile_names_them() -> None:
    assert tags_to_keep(["vip", "bargain_hunter"], ["bargain_hunter"]) == ["bargain_hunter"]
    assert tags_to_keep(["vip", "bargain_hunter", "vip"], None) == ["bargain_hunter", "vip"]
