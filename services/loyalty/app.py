"""Composition root of the loyalty service."""

from __future__ import annotations

from fastapi import FastAPI

from services.loyalty.api import routers
from services.loyalty.handlers import event_handlers
from services.loyalty.settings import LoyaltySettings
from services.loyalty.tasks import periodic_tasks
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock


def create_app(settings: LoyaltySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or LoyaltySettings()
    clock = clock or SystemClock()
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="loyalty",
            description=(
                "Points ledger (immutable), lots and expiry, tiers, versioned earn and redeem "
                "rules, referrals and daily tasks."
            ),
            routers=routers,
            handlers=event_handlers(clock),
            tasks=periodic_tasks(settings),
            clock=clock,
        )
    )
