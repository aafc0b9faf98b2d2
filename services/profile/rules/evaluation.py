"""Evaluating a customer's tags as of a business moment, and what a change announces. Pure.

Tags are evaluated as of the time of the event being handled, or the clock for the periodic
sweep, but never earlier than the customer's last evaluation (``evaluation_moment``). Each
evaluation also says when time alone could next change a tag (``review_at``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from functools import cached_property

from services.profile.rules.customer import CustomerProfile
from services.profile.rules.facts import CustomerFacts, pruned
from services.profile.rules.feature_functions import ProfileInputs
from services.profile.rules.features import feature_value, next_change
from services.profile.rules.tags import TagCatalogue, TagChange, evaluate, tag_change
from shared.events.catalogue import ProfileTagged


@dataclass(frozen=True)
class Assessment:
    tags: frozenset[str]
    review_at: datetime | None


@dataclass(frozen=True)
class Tagging:
    """The tag catalogue, and the business time zone calendar tags use."""

    catalogue: TagCatalogue
    timezone: tzinfo

    @cached_property
    def windows_by_source(self) -> Mapping[str, frozenset[int]]:
        """The catalogue's windows per kind of fact, worked out once: the catalogue is fixed."""
        return self.catalogue.windows_by_source()

    def inputs(
        self, profile: CustomerProfile, facts: CustomerFacts, now: datetime
    ) -> ProfileInputs:
        return ProfileInputs(
            facts=pruned(facts, now),
            now=now,
            timezone=self.timezone,
            category_groups=self.catalogue.category_groups,
            registered_at=profile.registered_at,
            birthday=profile.birthday,
            tier=profile.tier,
            silenced_until=profile.silenced_until,
            open_tickets=profile.open_tickets,
            consents=dict(profile.consents),
        )

    def assess(self, inputs: ProfileInputs) -> Assessment:
        """Which tags hold, and when time alone could next change that."""
        tags = evaluate(self.catalogue, lambda name, days: feature_value(inputs, name, days))
        return Assessment(tags, next_change(inputs, self.windows_by_source))

    def retag(
        self,
        profile: CustomerProfile,
        facts: CustomerFacts,
        current: frozenset[str],
        now: datetime,
    ) -> tuple[CustomerProfile, TagChange | None]:
        """The profile evaluated as of ``now``, and how its tags change from ``current``."""
        assessment = self.assess(self.inputs(profile, facts, now))
        profile = replace(profile, tags_as_of=now, tags_review_at=assessment.review_at)
        return profile, tag_change(current, assessment.tags)

    def announcement(self, customer_id: str, change: TagChange) -> ProfileTagged:
        """profile.tagged: the change, the full set, and the set's behaviour tags (what
        segmentation's "behaviour tags >= 3" counts)."""
        return ProfileTagged(
            customer_id=customer_id,
            added=list(change.added),
            removed=list(change.removed),
            tags=list(change.tags),
            behaviour_tags=sorted(self.catalogue.in_group("behaviour") & set(change.tags)),
        )
