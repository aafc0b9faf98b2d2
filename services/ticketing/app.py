"""Composition root of the ticketing service."""

from __future__ import annotations

from fastapi import FastAPI

from services.ticketing.api import routers
from services.ticketing.errors import install_invalid_input_handler
from services.ticketing.handlers.events import event_handlers
from services.ticketing.settings import TicketingSettings
from services.ticketing.tasks import breach_scan_task, sla_breach_counter
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock
from shared.metrics import ServiceMetrics


def create_app(settings: TicketingSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or TicketingSettings()
    clock = clock or SystemClock()
    metrics = ServiceMetrics(settings.service_name)
    breaches = sla_breach_counter(metrics.registry)
    breach_scan = breach_scan_task(
        source=settings.event_source,
        interval_s=settings.breach_scan_interval_s,
        batch_size=settings.breach_scan_batch_size,
        breaches=breaches,
    )
    app = create_service_app(
        ServiceSpec(
            settings=settings,
            title="ticketing",
            description=(
                "Support tickets with tier SLAs, agents and dispatch, the complaint loop's "
                "reprioritisation and follow-up callbacks, and SLA breach escalation."
            ),
            routers=routers,
            handlers=event_handlers(source=settings.event_source, clock=clock),
            tasks=[breach_scan],
            clock=clock,
            metrics=metrics,
        )
    )
    app.state.breach_scan = breach_scan
    install_invalid_input_handler(app)
    return app
