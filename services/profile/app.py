"""Composition root of the profile service."""

from __future__ import annotations

from fastapi import FastAPI

from services.profile.api import router
from services.profile.handlers import event_handlers
from services.profile.settings import ProfileSettings
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock


def create_app(settings: ProfileSettings | None = None, clock: Clock | None = None) -> FastAPI:
    return create_service_app(
        ServiceSpec(
            settings=settings or ProfileSettings(),
            title="profile",
            description="Customer profiles, consents and the customer 360 learned from events.",
            routers=[router],
            handlers=event_handlers(),
            clock=clock or SystemClock(),
        )
    )
