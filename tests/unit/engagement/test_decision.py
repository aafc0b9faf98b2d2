from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.engagement.rules.channels import Channel, Purpose
from services.engagement.rules.decision import (
    FREQUENT_RETURNER_TAG,
    CustomerState,
    Decision,
    Outcome,
    OutgoingMessage,
    SuppressionReason,
    decide,
    marketing_sent_in_window,
)
from services.engagement.rules.policy import EngagementPolicy

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
POLICY = EngagementPolicy()
ALL_CONSENTS = frozenset(Channel)


def marketing(channel: Channel = Channel.EMAIL) -> OutgoingMessage:
    return OutgoingMessage(channel, Purpose.MARKETING)


def service(channel: Channel = Channel.EMAIL) -> OutgoingMessage:
    return OutgoingMessage(channel, Purpose.SERVICE)


def customer(
    tags: frozenset[str] = frozenset(),
    silenced_until: datetime | None = None,
    marketing_sent_at: tuple[datetime, ...] = (),
) -> CustomerState:
    """A customer who consented to every channel."""
    return CustomerState(ALL_CONSENTS, tags, silenced_until, marketing_sent_at)


SENT = Decision(Outcome.SENT)
NO_CONSENT = Decision(Outcome.SUPPRESSED, SuppressionReason.NO_CONSENT)
SILENCED = Decision(Outcome.SUPPRESSED, SuppressionReason.SILENCED)
CAPPED = Decision(Outcome.SUPPRESSED, SuppressionReason.FREQUENCY_CAP)


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.WECOM])
@pytest.mark.parametrize("message", [marketing, service])
def test_a_channel_without_consent_is_suppressed(
    channel: Channel, message: Callable[[Channel], OutgoingMessage]
) -> None:
    state = CustomerState(consented_channels=ALL_CONSENTS - {channel})
    assert decide(message(channel), state, NOW, POLICY) == NO_CONSENT


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.WECOM])
def test_a_channel_with_consent_is_sent(channel: Channel) -> None:
    state = CustomerState(consented_channels=frozenset({channel}))
    assert decide(marketing(channel), state, NOW, POLICY) == SENT


def test_in_app_needs_no_consent() -> None:
    assert decide(marketing(Channel.IN_APP), CustomerState(), NOW, POLICY) == SENT


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS, Channel.PUSH, Channel.WECOM])
def test_an_unknown_customer_has_no_consent(channel: Channel) -> None:
    assert decide(service(channel), None, NOW, POLICY) == NO_CONSENT
    assert decide(marketing(Channel.IN_APP), None, NOW, POLICY) == SENT


def test_consent_is_checked_before_silence() -> None:
    state = CustomerState(silenced_until=NOW + DAY)
    assert decide(marketing(Channel.SMS), state, NOW, POLICY) == NO_CONSENT


def test_silenced_customer_gets_no_marketing_but_gets_service_messages() -> None:
    state = customer(silenced_until=NOW + DAY)
    for channel in Channel:
        assert decide(marketing(channel), state, NOW, POLICY) == SILENCED
        assert decide(service(channel), state, NOW, POLICY) == SENT


def test_marketing_resumes_when_the_silence_ends() -> None:
    state = customer(silenced_until=NOW)
    assert decide(marketing(), state, NOW, POLICY) == SENT


def test_silence_is_checked_before_the_cap() -> None:
    state = customer(silenced_until=NOW + DAY, marketing_sent_at=(NOW - DAY,) * 4)
    assert decide(marketing(), state, NOW, POLICY) == SILENCED


@pytest.mark.parametrize(
    ("tags", "cap"), [(frozenset(), 4), (frozenset({FREQUENT_RETURNER_TAG, "vip"}), 2)]
)
def test_marketing_cap_over_a_rolling_window(tags: frozenset[str], cap: int) -> None:
    recent = tuple(NOW - (i + 1) * DAY for i in range(cap - 1))

    below = customer(tags=tags, marketing_sent_at=recent)
    assert decide(marketing(), below, NOW, POLICY) == SENT

    at_cap = customer(tags=tags, marketing_sent_at=(*recent, NOW - 29 * DAY))
    assert decide(marketing(), at_cap, NOW, POLICY) == CAPPED
    assert decide(service(), at_cap, NOW, POLICY) == SENT

    exactly_30_days = customer(tags=tags, marketing_sent_at=(*recent, NOW - 30 * DAY))
    assert decide(marketing(), exactly_30_days, NOW, POLICY) == SENT

    aged_out = customer(tags=tags, marketing_sent_at=(*recent, NOW - 30 * DAY - SECOND))
    assert decide(marketing(), aged_out, NOW, POLICY) == SENT

    just_inside = customer(tags=tags, marketing_sent_at=(*recent, NOW - 30 * DAY + SECOND))
    assert decide(marketing(), just_inside, NOW, POLICY) == CAPPED


def test_the_window_rolls_with_now() -> None:
    sent = tuple(NOW - timedelta(hours=i) for i in range(4))
    oldest = min(sent)
    state = customer(marketing_sent_at=sent)

    assert decide(marketing(), state, NOW, POLICY) == CAPPED
    assert decide(marketing(), state, oldest + 30 * DAY - SECOND, POLICY) == CAPPED
    assert decide(marketing(), state, oldest + 30 * DAY, POLICY) == SENT


def test_sends_stamped_after_now_still_count() -> None:
    assert marketing_sent_in_window([NOW + SECOND, NOW - 31 * DAY], NOW, POLICY) == 1


def test_policy_changes_the_cap() -> None:
    strict = EngagementPolicy(marketing_cap=1, cap_window_days=7)
    state = customer(marketing_sent_at=(NOW - 6 * DAY,))
    assert decide(marketing(), state, NOW, strict) == CAPPED
    assert decide(marketing(), state, NOW + DAY, strict) == SENT


def test_decision_helpers() -> None:
    assert Decision.send() == SENT and SENT.sent
    assert Decision.suppress(SuppressionReason.SILENCED) == SILENCED and not SILENCED.sent
    assert [str(reason) for reason in SuppressionReason] == [
        "no_consent",
        "silenced",
        "frequency_cap",
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"silence_days": 0},
        {"cap_window_days": -1},
        {"marketing_cap": -1},
        {"frequent_returner_cap": 1.5},
        {"marketing_cap": True},
    ],
)
def test_invalid_policy_is_rejected(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(fields))):
        EngagementPolicy(**fields)  # type: ignore[arg-type]


def test_default_policy() -> None:
    defaults = (
        POLICY.silence_days,
        POLICY.marketing_cap,
        POLICY.frequent_returner_cap,
        POLICY.cap_window_days,
    )
    assert defaults == (30, 4, 2, 30)
