"""Composition root of the ticketing service."""

from __future__ import annotations

from fastapi import FastAPI

from services.ticketing.api import router
from services.ticketing.context import TicketingContext
from services.ticketing.handlers import subscriptions
from services.ticketing.settings import TicketingSettings
from services.ticketing.tasks import breach_scan_task, sla_breach_counter
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock
from shared.metrics import ServiceMetrics


def create_app(settings: TicketingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or TicketingSettings()
    metrics = ServiceMetrics(settings.service_name)
    context = TicketingContext(settings=settings, sla_breaches=sla_breach_counter(metrics.registry))
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="ticketing",
            description=(
                "Support tickets with tier SLAs, agents and dispatch, the complaint loop's "
                "reprioritisation and follow-up callbacks, and SLA breach escalation."
            ),
            routers=[router],
            subscriptions=subscriptions,
            context=context,
            tasks=[breach_scan_task(context)],
            clock=clock or SystemClock(),
            metrics=metrics,
        )
    )
