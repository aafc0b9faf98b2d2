"""Profile's settings, and reading its tag catalogue."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from services.profile.rules.catalogue import BUNDLED_CATALOGUE, CatalogueError, parse_catalogue
from services.profile.rules.tags import TagCatalogue
from shared.settings import ServiceSettings


class ProfileSettings(ServiceSettings):
    service_name: ClassVar[str] = "profile"
    default_port: ClassVar[int] = 8001

    tag_catalogue_path: Path | None = Field(
        default=None,
        description="A JSON tag catalogue to use instead of the bundled "
        "services/profile/rules/tag_catalogue.json.",
    )
    business_timezone: str = Field(
        default="Asia/Shanghai", description="Calendar tags (birthday_this_month) use this zone."
    )
    tag_sweep_interval_s: float = Field(
        default=30.0, gt=0, description="How often tags that time alone changes are re-evaluated."
    )
    tag_sweep_batch_size: int = Field(
        default=1000, ge=1, description="Customers the sweep re-evaluates per transaction."
    )
    ingest_max_events: int = Field(
        default=1000, ge=1, le=10_000, description="Events one POST /v1/events may carry."
    )
    ingest_rate_per_s: float = Field(
        default=5000.0, gt=0, description="Events per second POST /v1/events admits per API key."
    )
    ingest_burst: int = Field(
        default=20_000,
        ge=1,
        description="Events an API key may send at once after a quiet spell (at least "
        "ingest_max_events).",
    )

    @model_validator(mode="after")
    def _a_full_batch_fits_the_burst(self) -> ProfileSettings:
        if self.ingest_burst < self.ingest_max_events:
            raise ValueError("ingest_burst must be at least ingest_max_events")
        return self

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.business_timezone)

    def catalogue(self) -> TagCatalogue:
        """The tag catalogue; a bad one raises CatalogueError naming the tag."""
        return load_catalogue(self.tag_catalogue_path)


def load_catalogue(path: Path | None = None) -> TagCatalogue:
    """The tag catalogue in ``path`` (the bundled one by default)."""
    source = path or BUNDLED_CATALOGUE
    try:
        data = json.loads(source.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"tag catalogue {source} unreadable: {exc}") from exc
    return parse_catalogue(data)
