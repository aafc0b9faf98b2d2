"""Re-evaluating a customer already known: at which moment, and what changed since the last
decision (a new segment, a new churn streak). Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.segmentation.rules.churn import FallingStreak, churn_risk
from services.segmentation.rules.facts import CustomerFacts
from services.segmentation.rules.rfm import Evaluation, SegmentationPolicy, evaluate


@dataclass(frozen=True)
class MemberState:
    """What was decided for the customer last time; all None for a customer never evaluated."""

    segment: str | None = None
    evaluated_at: datetime | None = None
    churn_alerted_peak: date | None = None


@dataclass(frozen=True)
class Reevaluation:
    as_of: datetime
    evaluation: Evaluation
    old_segment: str | None
    churn: FallingStreak | None
    """The falling streak to raise churn_risk.detected for, if a new one started."""

    @property
    def segment_changed(self) -> bool:
        return self.old_segment != self.evaluation.segment


def evaluation_moment(
    now: datetime, *, event_time: datetime | None = None, last_evaluated: datetime | None = None
) -> datetime:
    """The later of now, the event's time and the last evaluation: a late event changes the
    facts, but the segment published is the customer's segment now (no playbook fires for a
    segment that was only true in the past), and a customer's time never runs backwards."""
    return max(moment for moment in (now, event_time, last_evaluated) if moment is not None)


def reevaluate(
    state: MemberState,
    facts: CustomerFacts,
    policy: SegmentationPolicy,
    *,
    now: datetime,
    event_time: datetime | None = None,
) -> Reevaluation:
    """The customer's segment and churn streak at the evaluation moment, against what was
    decided last time."""
    as_of = evaluation_moment(now, event_time=event_time, last_evaluated=state.evaluated_at)
    evaluation = evaluate(facts, as_of, policy)
    streak = churn_risk(
        facts.orders,
        monetary=evaluation.rfm.monetary,
        now=as_of,
        alerted_peak=state.churn_alerted_peak,
        policy=policy.churn,
    )
    return Reevaluation(as_of=as_of, evaluation=evaluation, old_segment=state.segment, churn=streak)
