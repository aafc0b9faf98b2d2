"""The engagement policy: the numbers the rules apply (DESIGN §4 Engagement), from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.engagement.rules.checks import require_int


@dataclass(frozen=True)
class EngagementPolicy:
    silence_days: int = 30
    marketing_cap: int = 4
    frequent_returner_cap: int = 2
    cap_window_days: int = 30
    trigger_max_age_hours: int = 72
    """A playbook or coupon trigger older than this when it arrives sends nothing."""
    coupon_min_csat: int = 4
    """The lowest satisfaction score a resolved ticket earns a coupon with."""
    playbook_repeat_days: int = 30
    """A segment's playbook runs at most once per customer within this many days of the entry
    that last ran it, however often the customer leaves and re-enters the segment meanwhile."""

    def __post_init__(self) -> None:
        for name in (
            "silence_days",
            "cap_window_days",
            "trigger_max_age_hours",
            "playbook_repeat_days",
        ):
            require_int(name, getattr(self, name), minimum=1)
        for name in ("marketing_cap", "frequent_returner_cap"):
            require_int(name, getattr(self, name), minimum=0)
        require_int("coupon_min_csat", self.coupon_min_csat, minimum=1)

    @property
    def cap_window(self) -> timedelta:
        return timedelta(days=self.cap_window_days)

    @property
    def playbook_repeat_window(self) -> timedelta:
        return timedelta(days=self.playbook_repeat_days)

    @property
    def trigger_max_age(self) -> timedelta:
        return timedelta(hours=self.trigger_max_age_hours)
