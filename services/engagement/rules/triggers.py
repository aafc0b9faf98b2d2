"""When an event triggers a message: segment playbooks and CSAT coupons, while fresh."""

from __future__ import annotations

from datetime import datetime

from services.engagement.rules.checks import require_aware
from services.engagement.rules.policy import EngagementPolicy


def is_fresh(trigger_time: datetime, now: datetime, policy: EngagementPolicy) -> bool:
    """A trigger at most `trigger_max_age` (72 h) old when it arrives: a coupon promised
    within 72 hours of the resolution, or a welcome into a segment, is not sent days late."""
    require_aware("trigger_time", trigger_time)
    require_aware("now", now)
    return now - trigger_time <= policy.trigger_max_age


def enters_segment(old_segment: str | None, new_segment: str) -> bool:
    """A playbook runs on entering a segment, not on a change that keeps it."""
    return old_segment != new_segment


def runs_playbook(
    last_run_entry: datetime | None, entry_time: datetime, policy: EngagementPolicy
) -> bool:
    """An entry into a segment runs its playbook unless an entry within the repeat window
    (before or after it: changes can arrive out of order) already ran it: a customer whose
    segment flaps, or who comes back a week later, is welcomed once."""
    require_aware("entry_time", entry_time)
    if last_run_entry is None:
        return True
    return abs(entry_time - last_run_entry) >= policy.playbook_repeat_window


def earns_csat_coupon(csat: int | None, policy: EngagementPolicy) -> bool:
    return csat is not None and csat >= policy.coupon_min_csat
