"""Re-evaluating a customer's tags and announcing a change: profile.tagged via the outbox.

Tags are evaluated as of a business moment: the time of the event being handled, or the clock
for the periodic sweep, but never earlier than the customer's last evaluation, so a late event
or a lagging clock never turns a customer's tags back in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.profile import store
from services.profile.facts import CustomerFacts, pruned
from services.profile.feature_functions import ProfileInputs
from services.profile.features import feature_value, next_change
from services.profile.models import Customer
from services.profile.tagging import TagCatalogue, TagChange, evaluate, tag_change
from shared.events.catalogue import ProfileTagged
from shared.events.envelope import CloudEvent, new_event
from shared.outbox import add_event


class FactUpdate(Protocol):
    def __call__(self, facts: CustomerFacts, *, now: datetime) -> CustomerFacts: ...


@dataclass(frozen=True)
class Assessment:
    tags: frozenset[str]
    review_at: datetime | None


@dataclass(frozen=True)
class Profiler:
    catalogue: TagCatalogue
    timezone: tzinfo
    source: str

    @cached_property
    def windows_by_source(self) -> dict[str, frozenset[int]]:
        """The catalogue's windows per kind of fact, worked out once: the catalogue is fixed."""
        return self.catalogue.windows_by_source()

    def moment(self, customer: Customer, at: datetime) -> datetime:
        """The business moment to evaluate at: ``at``, but never before the last evaluation."""
        last = customer.tags_as_of
        return at if last is None else max(at, last)

    def inputs(self, customer: Customer, facts: CustomerFacts, now: datetime) -> ProfileInputs:
        return ProfileInputs(
            facts=pruned(facts, now),
            now=now,
            timezone=self.timezone,
            category_groups=self.catalogue.category_groups,
            registered_at=customer.registered_at,
            birthday=customer.birthday,
            tier=customer.tier,
            silenced_until=customer.silenced_until,
            open_tickets=customer.open_tickets or 0,
            consents=dict(customer.consents or {}),
        )

    def assess(self, inputs: ProfileInputs) -> Assessment:
        """Which tags hold, and when time alone could next change that. Pure."""
        tags = evaluate(self.catalogue, lambda name, days: feature_value(inputs, name, days))
        return Assessment(tags, next_change(inputs, self.windows_by_source))

    async def record(
        self,
        session: AsyncSession,
        customer: Customer,
        at: datetime,
        update: FactUpdate | None = None,
    ) -> TagChange | None:
        """Apply ``update`` to the customer's facts (if any) and re-evaluate their tags.

        An erased customer is no longer profiled: nothing is recorded and no tag is set.
        """
        if customer.erased_at is not None:
            return None
        now = self.moment(customer, at)
        facts = await store.load_facts(session, customer.customer_id)
        if update is not None:
            facts = update(facts, now=now)
            await store.save_facts(session, customer.customer_id, facts, now)
        return await self.retag(session, customer, facts, now)

    async def retag(
        self, session: AsyncSession, customer: Customer, facts: CustomerFacts, now: datetime
    ) -> TagChange | None:
        assessment = self.assess(self.inputs(customer, facts, now))
        customer.tags_as_of = now
        customer.tags_review_at = assessment.review_at
        current = await store.tag_names(session, customer.customer_id)
        change = tag_change(current, assessment.tags)
        if change is None:
            return None
        await store.apply_tag_change(session, customer.customer_id, change, now)
        await add_event(session, self._tagged_event(customer.customer_id, change, now), now=now)
        return change

    def _tagged_event(self, customer_id: str, change: TagChange, now: datetime) -> CloudEvent:
        return new_event(
            "profile.tagged",
            source=self.source,
            time=now,
            subject=customer_id,
            data=ProfileTagged(
                customer_id=customer_id,
                added=list(change.added),
                removed=list(change.removed),
                tags=list(change.tags),
                behaviour_tags=sorted(self.catalogue.in_group("behaviour") & set(change.tags)),
            ),
        )
