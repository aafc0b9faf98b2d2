from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

from services.segmentation.rules.churn import ChurnPolicy
from services.segmentation.rules.rfm import DEFAULT_NON_BEHAVIOUR_TAGS, SegmentationPolicy
from services.segmentation.rules.segments import DEFAULT_SEGMENT_DEFINITIONS, SegmentTable
from shared.settings import ServiceSettings


class SegmentDefinition(BaseModel):
    """One row of the segment table, e.g. {"name": "loyal", "summary": "...",
    "conditions": ["recency_days < 15", "frequency >= 4", "monetary >= 500"]}."""

    name: str
    summary: str
    conditions: list[str] = Field(default_factory=list)


def _default_segments() -> list[SegmentDefinition]:
    return [
        SegmentDefinition(name=name, summary=summary, conditions=list(conditions))
        for name, summary, conditions in DEFAULT_SEGMENT_DEFINITIONS
    ]


class SegmentationSettings(ServiceSettings):
    service_name: ClassVar[str] = "segmentation"
    default_port: ClassVar[int] = 8002

    window_days: int = Field(default=365, ge=1)
    segments: list[SegmentDefinition] = Field(
        default_factory=_default_segments,
        description="Segments in precedence order (first match wins); the last has no "
        "conditions. Features: recency_days, frequency, monetary, behaviour_tags, complaints.",
    )
    non_behaviour_tags: list[str] = Field(
        default_factory=lambda: sorted(DEFAULT_NON_BEHAVIOUR_TAGS),
        description="Profile tags that do not count as behaviour tags.",
    )
    churn_min_monetary: Decimal = Field(default=Decimal("500"), ge=0)
    churn_falling_months: int = Field(default=3, ge=1)
    business_timezone: str = "Asia/Shanghai"
    sweep_interval_s: float = Field(default=5.0, gt=0)
    tag_settle_s: float = Field(
        default=30.0,
        gt=0,
        description="How long (business time) a segment decision waits, on a profile.tagged "
        "older than the newest order counted, for profile's next snapshot; the sweep then "
        "decides on the tags held.",
    )
    sweep_batch_size: int = Field(
        default=20_000, ge=1, description="Due customers the sweep reviews per transaction."
    )

    @model_validator(mode="after")
    def _policy_is_usable(self) -> "SegmentationSettings":
        self.policy()  # a bad segment table or timezone stops the service at start-up
        return self

    def policy(self) -> SegmentationPolicy:
        table = SegmentTable.from_definitions(
            [(s.name, s.summary, s.conditions) for s in self.segments]
        )
        return SegmentationPolicy(
            window_days=self.window_days,
            non_behaviour_tags=frozenset(self.non_behaviour_tags),
            segments=table,
            churn=ChurnPolicy(
                min_monetary=self.churn_min_monetary,
                falling_months=self.churn_falling_months,
                timezone=self.business_timezone,
            ),
        )
