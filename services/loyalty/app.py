"""Composition root of the loyalty service."""

from __future__ import annotations

from fastapi import FastAPI

from services.loyalty.api import customers, holds, rulebook
from services.loyalty.context import LoyaltyContext
from services.loyalty.handlers import subscriptions
from services.loyalty.settings import LoyaltySettings
from services.loyalty.tasks import periodic_tasks
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock


def create_app(settings: LoyaltySettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or LoyaltySettings()
    context = LoyaltyContext(settings=settings)
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="loyalty",
            description=(
                "Points ledger (immutable), lots and expiry, tiers, a versioned rulebook of "
                "earn and redeem rules, referrals and daily tasks."
            ),
            routers=[customers.router, holds.router, rulebook.router],
            subscriptions=subscriptions,
            context=context,
            tasks=periodic_tasks(context),
            clock=clock or SystemClock(),
        )
    )
