"""What every engagement handler needs besides a session, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.engagement.adapters import Adapter, Adapters
from services.engagement.adapters.recording import RecordingAdapter
from services.engagement.adapters.smtp import SmtpConfig, SmtpEmailAdapter
from services.engagement.adapters.webhook import WebhookAdapter, WebhookConfig
from services.engagement.rules import Channel, EngagementPolicy
from services.engagement.settings import EngagementSettings
from shared.clock import Clock


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 5
    backoff_s: float = 30.0
    backoff_max_s: float = 3600.0
    lease_s: float = 120.0
    batch_size: int = 50

    def backoff(self, attempts: int) -> timedelta:
        """Wait before the next attempt after `attempts` failed ones: doubling, capped."""
        return timedelta(
            seconds=min(self.backoff_s * 2 ** max(attempts - 1, 0), self.backoff_max_s)
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_s)


@dataclass(frozen=True)
class Engagement:
    settings: EngagementSettings
    policy: EngagementPolicy
    delivery: DeliveryPolicy
    adapters: Adapters
    recording: RecordingAdapter
    clock: Clock

    @property
    def source(self) -> str:
        return self.settings.event_source

    @property
    def trigger_max_age(self) -> timedelta:
        return timedelta(hours=self.settings.trigger_max_age_hours)


def build_engagement(settings: EngagementSettings, clock: Clock) -> Engagement:
    recording = RecordingAdapter()
    return Engagement(
        settings=settings,
        policy=settings.policy(),
        delivery=DeliveryPolicy(
            max_attempts=settings.delivery_max_attempts,
            backoff_s=settings.delivery_backoff_s,
            backoff_max_s=settings.delivery_backoff_max_s,
            lease_s=settings.delivery_lease_s,
            batch_size=settings.delivery_batch_size,
        ),
        adapters=Adapters(_adapters_by_channel(settings, recording)),
        recording=recording,
        clock=clock,
    )


def _adapters_by_channel(
    settings: EngagementSettings, recording: RecordingAdapter
) -> dict[Channel, Adapter]:
    by_channel: dict[Channel, Adapter] = dict.fromkeys(Channel, recording)
    if settings.email_adapter == "smtp":
        by_channel[Channel.EMAIL] = SmtpEmailAdapter(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=settings.smtp_password.get_secret_value()
                if settings.smtp_password
                else None,
                timeout_s=settings.smtp_timeout_s,
            )
        )
    token = settings.webhook_token.get_secret_value() if settings.webhook_token else None
    for channel, url in (
        (Channel.SMS, settings.sms_webhook_url),
        (Channel.PUSH, settings.push_webhook_url),
        (Channel.WECOM, settings.wecom_webhook_url),
    ):
        if url:
            by_channel[channel] = WebhookAdapter(
                WebhookConfig(url=url, token=token, timeout_s=settings.webhook_timeout_s)
            )
    return by_channel
