"""What profile's handlers, routes and tasks receive, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.profile.commands.ingestion import Ingestion
from services.profile.rules.evaluation import Tagging
from services.profile.rules.tags import TagCatalogue
from services.profile.settings import ProfileSettings
from shared.app import context_dependency
from shared.rate_limit import RateLimiter


@dataclass(frozen=True)
class ProfileContext:
    tagging: Tagging
    """The tag catalogue and the business time zone: how tags are evaluated."""
    ingestion: Ingestion
    """How much ``POST /v1/events`` takes: per request, per key and second."""

    @property
    def catalogue(self) -> TagCatalogue:
        return self.tagging.catalogue


def build_context(settings: ProfileSettings) -> ProfileContext:
    """A bad tag catalogue raises CatalogueError here, naming the tag: the service won't start."""
    return ProfileContext(
        tagging=Tagging(settings.catalogue(), settings.timezone()),
        ingestion=Ingestion(
            RateLimiter(settings.ingest_rate_per_s, settings.ingest_burst),
            max_events=settings.ingest_max_events,
        ),
    )


ProfileDep = Annotated[ProfileContext, Depends(context_dependency(ProfileContext))]
"""A route parameter receiving the service's context: ``profile: ProfileDep``."""
