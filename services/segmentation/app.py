"""Composition root of the segmentation service."""

from __future__ import annotations

from fastapi import FastAPI

from services.segmentation.api import router
from services.segmentation.evaluation import Segmenter
from services.segmentation.handlers import event_handlers
from services.segmentation.settings import SegmentationSettings
from services.segmentation.tasks import segment_sweep
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock, SystemClock


def create_app(settings: SegmentationSettings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or SegmentationSettings()
    clock = clock or SystemClock()
    policy = settings.policy()
    segmenter = Segmenter(policy=policy, source=settings.event_source)
    app = create_service_app(
        ServiceSpec(
            settings=settings,
            title="segmentation",
            description="RFM features, segment membership and churn alerts, kept from events.",
            routers=[router],
            handlers=event_handlers(segmenter, clock),
            tasks=[
                segment_sweep(
                    segmenter,
                    interval_s=settings.sweep_interval_s,
                    batch_size=settings.sweep_batch_size,
                )
            ],
            clock=clock,
        )
    )
    app.state.segment_table = policy.segments
    return app
