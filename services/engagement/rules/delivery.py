"""Delivery retries: how often a gateway is tried, how long to wait between tries, and how
long a claimed attempt may take before another worker may claim the message again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.backoff import Backoff


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 5
    backoff: Backoff = field(default_factory=lambda: Backoff(initial_s=30.0, maximum_s=3600.0))
    lease_s: float = 120.0

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_s)

    def lease_until(self, now: datetime) -> datetime:
        """A claim is a lease: a crash between the claim and the settlement only delays the
        message until then (delivery is at least once)."""
        return now + self.lease

    def retry_at(self, failed_attempts: int, now: datetime) -> datetime | None:
        """When to try again after `failed_attempts` failures: doubling waits up to the cap;
        None once the attempts are used up (the message is suppressed, `delivery_failed`)."""
        if failed_attempts >= self.max_attempts:
            return None
        return now + timedelta(seconds=self.backoff.delay(failed_attempts))
