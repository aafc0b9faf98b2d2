from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from services.profile.catalogue import load_catalogue
from services.profile.tagging import TagCatalogue
from shared.settings import ServiceSettings


class ProfileSettings(ServiceSettings):
    service_name: ClassVar[str] = "profile"
    default_port: ClassVar[int] = 8001

    tag_catalogue_path: Path | None = Field(
        default=None,
        description="A JSON tag catalogue to use instead of services/profile/tag_catalogue.json.",
    )
    business_timezone: str = Field(
        default="Asia/Shanghai", description="Calendar tags (birthday_this_month) use this zone."
    )
    tag_sweep_interval_s: float = Field(
        default=30.0, gt=0, description="How often tags that time alone changes are re-evaluated."
    )
    tag_sweep_batch_size: int = Field(default=200, ge=1)

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
