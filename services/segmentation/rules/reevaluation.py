"""Re-evaluating a customer already known: at which moment, and what changed since the last
decision (a new segment, a new churn streak); and the review of a customer whose segment is
settled, where only recency moves. Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.segmentation.rules.churn import FallingStreak, churn_risk
from services.segmentation.rules.figures import CustomerFigures, pruned
from services.segmentation.rules.rfm import (
    DAY,
    Evaluation,
    SegmentationPolicy,
    evaluate,
    recency_tick,
)


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
    figures: CustomerFigures
    """The figures still needed from ``as_of`` on (older orders and months dropped)."""

    @property
    def segment_changed(self) -> bool:
        return self.old_segment != self.evaluation.segment


@dataclass(frozen=True)
class RecencyRefresh:
    """A review while the segment is settled: the same decision, recency as of ``as_of``."""

    as_of: datetime
    recency_days: int | None
    review_at: datetime


def evaluation_moment(
    now: datetime, *, event_time: datetime | None = None, last_evaluated: datetime | None = None
) -> datetime:
    """The later of now, the event's time and the last evaluation: a late event changes the
    facts, but the segment published is the customer's segment now (no playbook fires for a
    segment that was only true in the past), and a customer's time never runs backwards."""
    return max(moment for moment in (now, event_time, last_evaluated) if moment is not None)


def reevaluate(
    state: MemberState,
    figures: CustomerFigures,
    policy: SegmentationPolicy,
    *,
    now: datetime,
    event_time: datetime | None = None,
) -> Reevaluation:
    """The customer's segment and churn streak at the evaluation moment, against what was
    decided last time. A run of events about a customer is evaluated once, at the latest
    event's time."""
    as_of = evaluation_moment(now, event_time=event_time, last_evaluated=state.evaluated_at)
    evaluation = evaluate(figures, as_of, policy)
    streak = churn_risk(
        figures.monthly_net,
        monetary=evaluation.rfm.monetary,
        now=as_of,
        alerted_peak=state.churn_alerted_peak,
        policy=policy.churn,
    )
    kept = pruned(
        figures,
        as_of,
        window=policy.window,
        months_kept=policy.churn.months_kept,
        timezone=policy.churn.timezone,
    )
    return Reevaluation(
        as_of=as_of, evaluation=evaluation, old_segment=state.segment, churn=streak, figures=kept
    )


def refresh_recency(
    *,
    last_order_at: datetime | None,
    last_evaluated: datetime,
    settled_until: datetime | None,
    now: datetime,
) -> RecencyRefresh | None:
    """The review of a customer at ``now`` when their segment is settled then (see
    ``Evaluation.settled_until``): only recency has moved. None when it is not settled: the
    customer is re-evaluated in full."""
    as_of = evaluation_moment(now, last_evaluated=last_evaluated)
    if settled_until is not None and as_of >= settled_until:
        return None
    tick = recency_tick(last_order_at, as_of)
    return RecencyRefresh(
        as_of=as_of,
        recency_days=None if last_order_at is None else (as_of - last_order_at) // DAY,
        review_at=tick if settled_until is None else min(tick, settled_until),
    )
