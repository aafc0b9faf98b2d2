"""Evaluating a customer's tags as of a business moment, and what a change announces. Pure.

Tags are evaluated as of the latest time of the events being handled, or the clock for the
periodic sweep, but never earlier than the customer's last evaluation (``evaluation_moment``).
A run of events evaluates each of its customers once, after all of their events (``reassess``),
so a run announces at most one change per customer. Each evaluation also says when time alone
could next change a tag or the 360's activity block (``review_at``). The catalogue's rules run
as compiled functions, and only those a change can affect (``Tagging.reassess``): the plain
rules (``rules/tags.py::evaluate``) give the same tags.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cached_property

from services.profile.rules.customer import CustomerProfile, evaluation_moment
from services.profile.rules.days import DAY_US, micros
from services.profile.rules.facts import CustomerFacts, pruned
from services.profile.rules.feature_functions import ProfileInputs, groups_of
from services.profile.rules.features import (
    FACT_KINDS,
    PROFILE,
    Value,
    feature_getter,
    next_change,
    next_month_start,
)
from services.profile.rules.summary import ACTIVITY_WINDOWS, Activity, activity
from services.profile.rules.tags import (
    CompiledCatalogue,
    CompiledTag,
    TagCatalogue,
    TagChange,
    compile_catalogue,
    rule_to_data,
    tag_change,
)
from shared.events.catalogue import ProfileTagged

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CustomerState:
    """What profile keeps of a customer: the profile, the facts and the current tags."""

    profile: CustomerProfile
    facts: CustomerFacts = field(default_factory=CustomerFacts)
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Assessment:
    tags: frozenset[str]
    review_at: datetime | None


@dataclass(frozen=True)
class Reassessment:
    """A customer after an evaluation: the new state, how the tags changed (None: they did
    not), and the 360's activity block as of the evaluation."""

    state: CustomerState
    change: TagChange | None
    activity: Activity


@dataclass(frozen=True)
class Tagging:
    """The tag catalogue, and the business time zone calendar tags use."""

    catalogue: TagCatalogue
    timezone: tzinfo

    @cached_property
    def windows_by_source(self) -> Mapping[str, frozenset[int]]:
        """The windows per kind of fact that time alone can change something in: the
        catalogue's and the activity block's, worked out once (the catalogue is fixed)."""
        windows = dict(self.catalogue.windows_by_source())
        for source, days in ACTIVITY_WINDOWS.items():
            windows[source] = windows.get(source, frozenset()) | days
        return windows

    @cached_property
    def _compiled(self) -> tuple[CompiledCatalogue, tuple[Callable[[ProfileInputs], Value], ...]]:
        """The catalogue's rules as functions, and how to work out each feature they use."""
        compiled = compile_catalogue(self.catalogue)
        return compiled, tuple(feature_getter(*feature) for feature in compiled.features)

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
            groups_of=self._groups_of,
            windows=self._window_spans,
        )

    def _groups_of(self, category: str) -> frozenset[str]:
        """The category groups ``category`` is in, worked out once per category."""
        known = self._groups_by_category
        found = known.get(category)
        if found is None:
            if len(known) >= 10_000:
                known.clear()  # categories come from events: keep the memo bounded
            found = known[category] = groups_of(category, self.catalogue.category_groups)
        return found

    @cached_property
    def _groups_by_category(self) -> dict[str, frozenset[str]]:
        return {}

    def assess(self, inputs: ProfileInputs) -> Assessment:
        """Which tags hold, and when time alone could next change that."""
        compiled, getters = self._compiled
        tags = compiled.evaluate(lambda index: getters[index](inputs))
        return Assessment(tags, next_change(inputs, self.windows_by_source))

    def _reading(self, changed: frozenset[str]) -> tuple[tuple[CompiledTag, ...], frozenset[str]]:
        """The tags reading any of ``changed``, and their names (worked out once per set)."""
        found = self._reading_cache.get(changed)
        if found is None:
            tags = self._compiled[0].reading(changed)
            found = self._reading_cache[changed] = (tags, frozenset(t.name for t in tags))
        return found

    @cached_property
    def _reading_cache(
        self,
    ) -> dict[frozenset[str], tuple[tuple[CompiledTag, ...], frozenset[str]]]:
        return {}

    @cached_property
    def _when_empty(self) -> Mapping[str, bool]:
        """Whether each tag holds for a customer with nothing it reads: no facts of the kinds
        it reads, nothing known from the profile (what those give does not depend on time)."""
        compiled, getters = self._compiled
        nobody = self.inputs(_NOBODY, CustomerFacts(), _EPOCH)
        holds = compiled.evaluate(lambda index: getters[index](nobody))
        return {tag.name: tag.name in holds for tag in compiled.tags}

    @cached_property
    def fingerprint(self) -> str:
        """The catalogue's fingerprint: tags evaluated with another catalogue are evaluated
        afresh."""
        catalogue = self.catalogue
        data = {
            "groups": {
                name: sorted(members) for name, members in catalogue.category_groups.items()
            },
            "tags": [[tag.name, tag.group, rule_to_data(tag.rule)] for tag in catalogue.tags],
        }
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def reassess(
        self, state: CustomerState, at: datetime, before: CustomerState | None = None
    ) -> Reassessment:
        """The customer evaluated as of ``at`` (never before their last evaluation). Given
        ``before``, the customer as evaluated last, only the tags reading what changed since
        (``_changed_since``) are evaluated again; a tag reading nothing the customer has gets
        the answer it has for anyone so. An erased customer is no longer profiled: no facts,
        no tags, nothing evaluated."""
        profile = state.profile
        if profile.erased:
            as_of = profile.erased_at or at
            nothing = self.inputs(profile, CustomerFacts(), as_of)
            return Reassessment(CustomerState(profile), None, activity(nothing))
        now = evaluation_moment(profile, at)
        inputs = self.inputs(profile, state.facts, now)
        compiled, getters = self._compiled
        changed = self._changed_since(before, state, inputs)
        if changed is None:
            candidates, kept = compiled.tags, frozenset[str]()
        else:
            candidates, names = self._reading(changed)
            kept = state.tags - names  # nothing they read changed
        empty, when_empty = _empty_kinds(inputs.facts, profile), self._when_empty
        to_test, settled = [], set()
        for tag in candidates:
            if tag.reads <= empty:  # it reads nothing the customer has
                if when_empty[tag.name]:
                    settled.add(tag.name)
            else:
                to_test.append(tag)
        held = compiled.evaluate(lambda index: getters[index](inputs), to_test)
        tags = kept | settled | held
        profile = replace(
            profile,
            tags_as_of=now,
            tags_review_at=next_change(inputs, self.windows_by_source),
            tags_catalogue=self.fingerprint,
        )
        return Reassessment(
            CustomerState(profile, inputs.facts, tags),
            tag_change(state.tags, tags),
            activity(inputs),
        )

    def _changed_since(
        self, before: CustomerState | None, after: CustomerState, inputs: ProfileInputs
    ) -> frozenset[str] | None:
        """What tags read that changed from ``before`` (as evaluated last) to ``after`` (as of
        ``inputs.now``): kinds of facts an event changed or whose days time carried across a
        window boundary, and the profile; None when every tag must be evaluated again (a
        customer never evaluated, or evaluated with another catalogue)."""
        if before is None or before.tags != after.tags:
            return None
        last = before.profile
        if last.tags_as_of is None or last.tags_catalogue != self.fingerprint:
            return None
        changed = {
            kind
            for kind in FACT_KINDS
            if getattr(inputs.facts, kind) is not getattr(before.facts, kind)
        }
        if inputs.facts.lifetime != before.facts.lifetime:
            changed.add("orders")
        if _profile_inputs(after.profile) != _profile_inputs(last):
            changed.add(PROFILE)
        changed |= self._carried_by_time(inputs, last.tags_as_of)
        return frozenset(changed)

    def _carried_by_time(self, inputs: ProfileInputs, since: datetime) -> set[str]:
        """What time alone changed between ``since`` and ``inputs.now``: a day of facts (or
        the registration) leaving a window it is counted in, a silence ending, a new month
        in the business time zone (for birthdays)."""
        now, carried = inputs.now, set[str]()
        if now <= since:
            return carried
        starts = inputs.facts.day_starts()
        starts["registration"] = [micros(inputs.registered_at)] if inputs.registered_at else []
        since_us, now_us = micros(since), inputs.now_us
        for source, windows in self._windows.items():
            for start in starts.get(source, ()):
                if any(since_us < start + window <= now_us for window in windows):
                    carried.add(PROFILE if source == "registration" else source)
                    break
        if inputs.silenced_until is not None and since < inputs.silenced_until <= now:
            carried.add(PROFILE)
        if inputs.birthday is not None and next_month_start(since, self.timezone) <= now:
            carried.add(PROFILE)
        return carried

    @cached_property
    def _window_spans(self) -> Mapping[str, tuple[timedelta, ...]]:
        """The windows of ``windows_by_source``, as spans: added up at once for each kind."""
        return {
            source: tuple(timedelta(days=d) for d in sorted(days))
            for source, days in self.windows_by_source.items()
        }

    @cached_property
    def _windows(self) -> Mapping[str, tuple[int, ...]]:
        """The windows of ``windows_by_source`` in microseconds."""
        return {
            source: tuple(d * DAY_US for d in days)
            for source, days in self.windows_by_source.items()
        }

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


def _profile_inputs(profile: CustomerProfile) -> tuple[object, ...]:
    """What features read from the profile (``ProfileInputs``)."""
    return (
        profile.registered_at,
        profile.birthday,
        profile.tier,
        profile.silenced_until,
        profile.open_tickets,
        dict(profile.consents),
    )


def _empty_kinds(facts: CustomerFacts, profile: CustomerProfile) -> frozenset[str]:
    """What the customer has nothing of: kinds of facts (orders: nor any order ever), and the
    profile when nothing features read from it is known."""
    empty = {kind for kind in FACT_KINDS if not getattr(facts, kind)}
    if facts.lifetime.orders:
        empty.discard("orders")
    if _profile_inputs(profile) == _NOBODYS_INPUTS:
        empty.add(PROFILE)
    return frozenset(empty)


_NOBODY = CustomerProfile("nobody", _EPOCH)
_NOBODYS_INPUTS = _profile_inputs(_NOBODY)
