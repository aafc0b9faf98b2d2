"""Channels, purposes, consent and reachability: who can be reached where.

In-app messages need no consent (they reach only a customer who is using the app already);
e-mail and SMS need an address on file, the other channels address the customer by id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


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


@dataclass(frozen=True)
class Contact:
    """The addresses engagement holds for a customer (none for a stranger or after erasure)."""

    email: str | None = None
    phone: str | None = None

    def address(self, channel: Channel) -> str | None:
        """The e-mail address or phone number the channel needs; None for the channels that
        address the customer by id (push, WeCom, in-app)."""
        if channel is Channel.EMAIL:
            return self.email
        if channel is Channel.SMS:
            return self.phone
        return None

    def reaches(self, channel: Channel) -> bool:
        return channel not in (Channel.EMAIL, Channel.SMS) or bool(self.address(channel))


def consented_channels(consents: Mapping[str, bool]) -> frozenset[Channel]:
    """The channels the customer said yes to, from the consents as stored ({"sms": true})."""
    return frozenset(Channel(name) for name, given in consents.items() if given)


def reachable_channels(consented: frozenset[Channel], contact: Contact) -> list[Channel]:
    """Every channel a message could go out on now, in the channels' order."""
    return [
        channel
        for channel in Channel
        if (channel in consented or not channel.needs_consent) and contact.reaches(channel)
    ]


def first_reachable(
    consented: frozenset[Channel], contact: Contact, preference: Iterable[Channel]
) -> Channel:
    """The first channel of `preference` the customer consented to and can be reached on;
    in_app otherwise."""
    for channel in preference:
        if channel in consented and contact.reaches(channel):
            return channel
    return Channel.IN_APP
