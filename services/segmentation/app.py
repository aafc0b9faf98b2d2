"""Composition root of the segmentation service."""

from __future__ import annotations

from fastapi import FastAPI

from services.segmentation.api import router
from services.segmentation.context import build_context
from services.segmentation.handlers import subscriptions
from services.segmentation.settings import SegmentationSettings
from services.segmentation.tasks import segment_sweep
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock


def create_app(settings: SegmentationSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or SegmentationSettings()
    context = build_context(settings)
    return create_service_app(
        ServiceSpec(
            settings=settings,
            title="segmentation",
            description="RFM features, segment membership and churn alerts, kept from events.",
            routers=[router],
            subscriptions=subscriptions,
            context=context,
            tasks=[segment_sweep(context, interval_s=settings.sweep_interval_s)],
            clock=clock or SystemClock(),
        )
    )
