"""Composition root of the profile service."""

from __future__ import annotations

from fastapi import FastAPI

from services.profile.api import router
from services.profile.context import build_context
from services.profile.handlers import subscriptions
from services.profile.settings import ProfileSettings
from services.profile.tasks import tag_sweep
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock


def create_app(settings: ProfileSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or ProfileSettings()
    context = build_context(settings)
    sweep = tag_sweep(
        context,
        interval_s=settings.tag_sweep_interval_s,
        batch_size=settings.tag_sweep_batch_size,
    )
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="profile",
            description="Customer profiles, consents, behaviour features and tags, and the "
            "customer 360 learned from events.",
            routers=[router],
            subscriptions=subscriptions,
            context=context,
            tasks=[sweep],
            clock=clock or SystemClock(),
        )
    )
