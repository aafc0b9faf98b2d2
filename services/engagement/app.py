"""Composition root of the engagement service."""

from __future__ import annotations

from fastapi import FastAPI

from services.engagement.api import router
from services.engagement.context import build_engagement
from services.engagement.delivery import delivery_task
from services.engagement.handlers import event_handlers
from services.engagement.settings import EngagementSettings
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock


def create_app(settings: EngagementSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or EngagementSettings()
    clock = clock or SystemClock()
    engagement = build_engagement(settings, clock)
    app = create_service_app(
        ServiceSpec(
            settings=settings,
            title="engagement",
            description="Marketing silences, frequency caps, consents, playbooks, campaigns and "
            "every send or suppress decision.",
            routers=[router],
            handlers=event_handlers(engagement),
            tasks=[delivery_task(engagement)],
            clock=clock,
        )
    )
    app.state.engagement = engagement
    return app
