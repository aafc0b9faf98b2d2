"""What every sender takes and promises: one adapter per channel, chosen by configuration
(the recording adapter by default)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.engagement.rules.channels import Channel, Purpose


@dataclass(frozen=True)
class Delivery:
    """What an adapter sends. `address` is the e-mail address or phone number where the
    channel needs one; push, WeCom and in-app gateways address the customer by id."""

    message_id: str
    customer_id: str
    channel: Channel
    purpose: Purpose
    template: str
    subject: str
    text: str
    address: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


class DeliveryFailed(Exception):
    """The gateway did not take the message. `code` is safe to store and log: no personal data."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code[:64]


class Adapter(Protocol):
    async def deliver(self, delivery: Delivery) -> None:
        """Hand the message to the gateway, or raise DeliveryFailed."""

    def forget(self, customer_id: str) -> None:
        """Drop anything held about the customer (erasure)."""


class Adapters:
    """The adapter of each channel."""

    def __init__(self, by_channel: Mapping[Channel, Adapter]) -> None:
        missing = set(Channel) - set(by_channel)
        if missing:
            raise ValueError(f"no adapter for {sorted(missing)}")
        self._by_channel = dict(by_channel)

    def for_channel(self, channel: Channel) -> Adapter:
        return self._by_channel[channel]

    async def deliver(self, delivery: Delivery) -> None:
        await self._by_channel[delivery.channel].deliver(delivery)

    def forget(self, customer_id: str) -> None:
        for adapter in {id(a): a for a in self._by_channel.values()}.values():
            adapter.forget(customer_id)
