"""Composition root of the engagement service: settings and clock in, the app out."""

from __future__ import annotations

from fastapi import FastAPI

from services.engagement.adapters.delivery import Adapter, Adapters
from services.engagement.adapters.recording import RecordingAdapter
from services.engagement.adapters.smtp import SmtpConfig, SmtpEmailAdapter
from services.engagement.adapters.webhook import WebhookAdapter, WebhookConfig
from services.engagement.api import router
from services.engagement.context import EngagementContext
from services.engagement.handlers import subscriptions
from services.engagement.rules.channels import Channel
from services.engagement.settings import EngagementSettings
from services.engagement.tasks import delivery_task
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock


def create_app(settings: EngagementSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or EngagementSettings()
    context = build_context(settings)
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="engagement",
            description="Marketing silences, frequency caps, consents, playbooks, campaigns and "
            "every send or suppress decision.",
            routers=[router],
            subscriptions=subscriptions,
            context=context,
            tasks=[delivery_task(context)],
            clock=clock or SystemClock(),
        )
    )


def build_context(settings: EngagementSettings) -> EngagementContext:
    recording = RecordingAdapter()
    return EngagementContext(
        settings=settings,
        policy=settings.policy(),
        delivery=settings.delivery_policy(),
        adapters=Adapters(_adapters_by_channel(settings, recording)),
        recording=recording,
    )


def _adapters_by_channel(
    settings: EngagementSettings, recording: RecordingAdapter
) -> dict[Channel, Adapter]:
    """The recording adapter for every channel, unless settings name a gateway for it."""
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
