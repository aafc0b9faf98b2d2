"""The business rules of engagement, pure: marketing silence and the send decision.

No I/O and no clock: every moment is an argument, timezone-aware.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

FREQUENT_RETURNER_TAG = "frequent_returner"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    WECOM = "wecom"
    IN_APP = "in_app"

    @property
    def needs_consent(self) -> bool:
        # In-app messages reach only a customer who is using the app already.
        return self is not Channel.IN_APP


class Purpose(StrEnum):
    MARKETING = "marketing"
    SERVICE = "service"


class Outcome(StrEnum):
    SENT = "sent"
    SUPPRESSED = "suppressed"


class SuppressionReason(StrEnum):
    """Stable strings: stored with each decision and published in `message.suppressed`."""

    NO_CONSENT = "no_consent"
    SILENCED = "silenced"
    FREQUENCY_CAP = "frequency_cap"


@dataclass(frozen=True)
class EngagementPolicy:
    silence_days: int = 30
    marketing_cap: int = 4
    frequent_returner_cap: int = 2
    cap_window_days: int = 30

    def __post_init__(self) -> None:
        for name in ("silence_days", "cap_window_days"):
            _require_int(name, getattr(self, name), minimum=1)
        for name in ("marketing_cap", "frequent_returner_cap"):
            _require_int(name, getattr(self, name), minimum=0)

    @property
    def cap_window(self) -> timedelta:
        return timedelta(days=self.cap_window_days)


@dataclass(frozen=True)
class OutgoingMessage:
    channel: Channel
    purpose: Purpose


@dataclass(frozen=True)
class CustomerState:
    """What engagement knows of a customer. `marketing_sent_at` holds the send times of
    marketing messages actually sent; older ones than the cap window may be included."""

    consented_channels: frozenset[Channel] = frozenset()
    tags: frozenset[str] = frozenset()
    silenced_until: datetime | None = None
    marketing_sent_at: tuple[datetime, ...] = ()


# A customer engagement has never heard of: no consent, no tags, no silence, nothing sent.
UNKNOWN_CUSTOMER = CustomerState()


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: SuppressionReason | None = None

    @classmethod
    def send(cls) -> Decision:
        return cls(Outcome.SENT)

    @classmethod
    def suppress(cls, reason: SuppressionReason) -> Decision:
        return cls(Outcome.SUPPRESSED, reason)

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT


def extend_silence(
    current_until: datetime | None, complaint_time: datetime, days: int = 30
) -> datetime:
    """The silence end after a complaint at `complaint_time` (its business time): a later
    complaint extends the silence, an older or repeated one never shortens it. The result
    may lie in the past for a backdated complaint; `is_silenced` then says no."""
    _require_aware("complaint_time", complaint_time)
    _require_int("days", days, minimum=1)
    until = complaint_time + timedelta(days=days)
    if current_until is None:
        return until
    _require_aware("current_until", current_until)
    return max(current_until, until)


def is_silenced(until: datetime | None, now: datetime) -> bool:
    """Silenced up to, not including, `until`."""
    _require_aware("now", now)
    if until is None:
        return False
    _require_aware("until", until)
    return now < until


def marketing_cap(tags: Iterable[str], policy: EngagementPolicy) -> int:
    if FREQUENT_RETURNER_TAG in frozenset(tags):
        return policy.frequent_returner_cap
    return policy.marketing_cap


def marketing_sent_in_window(
    sent_at: Iterable[datetime], now: datetime, policy: EngagementPolicy
) -> int:
    """Marketing sends in the rolling window: those with sent_at > now - window. A send stamped
    after `now` (an event replayed out of order) counts too: the cap is what the customer
    receives, whichever order we learn of it."""
    _require_aware("now", now)
    window_start = now - policy.cap_window
    return sum(1 for moment in sent_at if moment > window_start)


def decide(
    message: OutgoingMessage,
    customer: CustomerState | None,
    now: datetime,
    policy: EngagementPolicy,
) -> Decision:
    """Channel consent -> marketing silence -> frequency cap -> send. Service messages skip
    silence and caps, never consent. `customer` None means never heard of."""
    state = customer if customer is not None else UNKNOWN_CUSTOMER
    if message.channel.needs_consent and message.channel not in state.consented_channels:
        return Decision.suppress(SuppressionReason.NO_CONSENT)
    if message.purpose is Purpose.SERVICE:
        return Decision.send()
    if is_silenced(state.silenced_until, now):
        return Decision.suppress(SuppressionReason.SILENCED)
    sent = marketing_sent_in_window(state.marketing_sent_at, now, policy)
    if sent >= marketing_cap(state.tags, policy):
        return Decision.suppress(SuppressionReason.FREQUENCY_CAP)
    return Decision.send()


def _require_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _require_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}")
