"""Consent and reachability: who can be reached on which channel, and `no_contact`."""

from __future__ import annotations

from datetime import UTC, datetime

from services.engagement.rules.channels import (
    Channel,
    Contact,
    Purpose,
    consented_channels,
    first_reachable,
    reachable_channels,
)
from services.engagement.rules.decision import (
    CustomerState,
    Decision,
    DeliveryReason,
    OutgoingMessage,
    SuppressionReason,
    decide_with_contact,
)
from services.engagement.rules.policy import EngagementPolicy

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
POLICY = EngagementPolicy()
EVERY_CONSENT = frozenset(Channel)


def test_consents_as_stored_become_channels() -> None:
    assert consented_channels({"email": True, "sms": False}) == {Channel.EMAIL}
    assert consented_channels({}) == frozenset()


def test_email_and_sms_need_an_address_the_others_address_the_customer() -> None:
    contact = Contact(email="a@example.com")
    assert (contact.address(Channel.EMAIL), contact.address(Channel.SMS)) == (
        "a@example.com",
        None,
    )
    assert [c for c in Channel if contact.reaches(c)] == [
        Channel.EMAIL,
        Channel.PUSH,
        Channel.WECOM,
        Channel.IN_APP,
    ]
    assert not Contact(email="").reaches(Channel.EMAIL)


def test_reachable_channels_need_consent_and_an_address() -> None:
    consented = frozenset({Channel.EMAIL, Channel.SMS})
    assert reachable_channels(consented, Contact(phone="139")) == [Channel.SMS, Channel.IN_APP]
    assert reachable_channels(frozenset(), Contact()) == [Channel.IN_APP]


def test_first_reachable_falls_back_to_in_app() -> None:
    preference = [Channel.SMS, Channel.WECOM, Channel.EMAIL]
    consented = frozenset({Channel.EMAIL, Channel.SMS, Channel.WECOM})
    assert first_reachable(consented, Contact(), preference) is Channel.WECOM
    assert first_reachable(consented, Contact(phone="139"), preference) is Channel.SMS
    assert first_reachable(frozenset(), Contact(phone="139"), preference) is Channel.IN_APP


def test_a_message_the_rules_let_through_still_needs_an_address() -> None:
    state = CustomerState(consented_channels=EVERY_CONSENT)
    service_sms = OutgoingMessage(Channel.SMS, Purpose.SERVICE)
    assert decide_with_contact(service_sms, state, Contact(), NOW, POLICY) == Decision.suppress(
        DeliveryReason.NO_CONTACT
    )
    assert decide_with_contact(service_sms, state, Contact(phone="139"), NOW, POLICY).sent


def test_consent_is_decided_before_the_address() -> None:
    sms = OutgoingMessage(Channel.SMS, Purpose.SERVICE)
    assert decide_with_contact(sms, None, Contact(), NOW, POLICY) == Decision.suppress(
        SuppressionReason.NO_CONSENT
    )


def test_reason_strings_are_stable() -> None:
    assert [str(reason) for reason in DeliveryReason] == [
        "no_contact",
        "delivery_failed",
        "customer_erased",
    ]
