"""What segmentation's handlers, tasks and routes receive, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from services.segmentation.rules.rfm import SegmentationPolicy
from services.segmentation.rules.segments import SegmentTable
from services.segmentation.settings import SegmentationSettings
from shared.app import context_dependency


@dataclass(frozen=True)
class SegmentationContext:
    policy: SegmentationPolicy
    sweep_batch_size: int
    """How many due customers the sweep reviews in one transaction (a chunk)."""
    tag_settle: timedelta = timedelta(seconds=30)
    """How long a segment decision waits on a tag snapshot older than the newest order
    (``rules.facts.snapshot_is_behind``) for profile's next snapshot."""

    @property
    def segments(self) -> SegmentTable:
        return self.policy.segments


def build_context(settings: SegmentationSettings) -> SegmentationContext:
    return SegmentationContext(
        policy=settings.policy(),
        sweep_batch_size=settings.sweep_batch_size,
        tag_settle=timedelta(seconds=settings.tag_settle_s),
    )


SegmentationDep = Annotated[SegmentationContext, Depends(context_dependency(SegmentationContext))]
"""A route parameter that receives the context: ``ctx: SegmentationDep``."""
