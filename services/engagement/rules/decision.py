"""The send decision: consent -> marketing silence -> frequency cap -> an address.

Every outgoing message passes it, whatever asked for it (the API, a campaign, a trigger) and
again before each delivery retry. Its outcome and reason strings are stable: they are stored
with each decision and published in `message.sent` / `message.suppressed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from services.engagement.rules.channels import Channel, Contact, Purpose
from services.engagement.rules.checks import require_aware
from services.engagement.rules.policy import EngagementPolicy
from services.engagement.rules.silence import is_silenced

FREQUENT_RETURNER_TAG = "frequent_returner"


class Outcome(StrEnum):
    """What the decision says of a message."""

    SENT = "sent"
    SUPPRESSED = "suppressed"


PENDING: Final = "pending"
"""The outcome stored for a message the decision let through until its adapter takes it
(then `sent`) or its delivery attempts run out (then `suppressed`, `delivery_failed`)."""

COUNTED_AGAINST_CAP: Final = frozenset({Outcome.SENT.value, PENDING})
"""Marketing on its way counts against the cap like marketing sent: a gateway outage must not
let a burst through once it recovers."""


class SuppressionReason(StrEnum):
    """The decision's own reasons."""

    NO_CONSENT = "no_consent"
    SILENCED = "silenced"
    FREQUENCY_CAP = "frequency_cap"


class DeliveryReason(StrEnum):
    """Why a message the decision let through does not (or not yet) reach the customer."""

    NO_CONTACT = "no_contact"
    """E-mail or SMS with no address on file."""
    DELIVERY_FAILED = "delivery_failed"
    """The gateway refused it: kept on a `pending` message while retries last."""
    CUSTOMER_ERASED = "customer_erased"
    """Still pending when the customer was erased."""


Reason = SuppressionReason | DeliveryReason


@dataclass(frozen=True)
class OutgoingMessage:
    channel: Channel
    purpose: Purpose


@dataclass(frozen=True)
class CustomerState:
    """What engagement knows of a customer. The marketing that counts against the cap
    (`COUNTED_AGAINST_CAP`) is given as a count already taken over the window
    (`marketing_in_window`, what the store counts since `cap_window_start`), as decision
    times (`marketing_sent_at`, older ones than the window may be included), or both."""

    consented_channels: frozenset[Channel] = frozenset()
    tags: frozenset[str] = frozenset()
    silenced_until: datetime | None = None
    marketing_sent_at: tuple[datetime, ...] = ()
    marketing_in_window: int = 0


# A customer engagement has never heard of: no consent, no tags, no silence, nothing sent.
UNKNOWN_CUSTOMER = CustomerState()


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: Reason | None = None

    @classmethod
    def send(cls) -> Decision:
        return cls(Outcome.SENT)

    @classmethod
    def suppress(cls, reason: Reason) -> Decision:
        return cls(Outcome.SUPPRESSED, reason)

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT


def marketing_cap(tags: Iterable[str], policy: EngagementPolicy) -> int:
    if FREQUENT_RETURNER_TAG in frozenset(tags):
        return policy.frequent_returner_cap
    return policy.marketing_cap


def cap_window_start(now: datetime, policy: EngagementPolicy) -> datetime:
    """The rolling window counts what was decided strictly after this moment."""
    require_aware("now", now)
    return now - policy.cap_window


def marketing_sent_in_window(
    sent_at: Iterable[datetime], now: datetime, policy: EngagementPolicy
) -> int:
    """Marketing sends in the rolling window: those with sent_at > now - window. A send stamped
    after `now` (an event replayed out of order) counts too: the cap is what the customer
    receives, whichever order we learn of it."""
    window_start = cap_window_start(now, policy)
    return sum(1 for moment in sent_at if moment > window_start)


def counts_against_cap(purpose: Purpose, outcome: str) -> bool:
    """Whether a message decided so takes a place under the cap (sent, or on its way)."""
    return purpose is Purpose.MARKETING and outcome in COUNTED_AGAINST_CAP


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
    sent = state.marketing_in_window + marketing_sent_in_window(
        state.marketing_sent_at, now, policy
    )
    if sent >= marketing_cap(state.tags, policy):
        return Decision.suppress(SuppressionReason.FREQUENCY_CAP)
    return Decision.send()


def decide_with_contact(
    message: OutgoingMessage,
    customer: CustomerState | None,
    contact: Contact,
    now: datetime,
    policy: EngagementPolicy,
) -> Decision:
    """`decide`, then an address for the channel: the whole decision a message gets before
    it is recorded, and again before each delivery retry."""
    decision = decide(message, customer, now, policy)
    if decision.sent and not contact.reaches(message.channel):
        return Decision.suppress(DeliveryReason.NO_CONTACT)
    return decision
