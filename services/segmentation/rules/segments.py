"""The segment table as data: named segments with conditions, evaluated top-down.

A condition is a line of text such as ``recency_days < 15``; it is parsed once, so the definition
shown by ``GET /v1/segments`` is the rule the code evaluates, never a paraphrase of it.
Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import cached_property


class Feature(StrEnum):
    RECENCY_DAYS = "recency_days"
    FREQUENCY = "frequency"
    MONETARY = "monetary"
    BEHAVIOUR_TAGS = "behaviour_tags"
    COMPLAINTS = "complaints"


FeatureValues = dict[Feature, int | Decimal | None]
_FEATURE_NAMES = frozenset(feature.value for feature in Feature)

_COMPARE: dict[str, Callable[[int | Decimal, Decimal], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
}
_CONDITION = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|<|>|=)\s*(\S+)\s*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class InvalidSegmentTable(ValueError):
    """A segment table that cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class Condition:
    feature: Feature
    op: str
    value: Decimal

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = _CONDITION.match(text)
        if match is None:
            raise InvalidSegmentTable(f"condition {text!r} is not '<feature> <op> <number>'")
        name, op, raw = match.groups()
        if name not in _FEATURE_NAMES:
            raise InvalidSegmentTable(f"condition {text!r}: unknown feature {name!r}")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise InvalidSegmentTable(f"condition {text!r}: {raw!r} is not a number")
        return cls(Feature(name), op, value)

    def holds(self, features: FeatureValues) -> bool:
        actual = features[self.feature]
        # A customer who never ordered has no recency: no recency condition holds for them.
        return actual is not None and _COMPARE[self.op](actual, self.value)

    def turning_points(self) -> tuple[int, ...]:
        """The whole numbers n where the condition on an integer feature holds for n and not
        for n - 1, or the other way round."""
        value = self.value
        if self.op in ("<", ">="):
            return (math.ceil(value),)
        if self.op in ("<=", ">"):
            return (math.floor(value) + 1,)
        return (int(value), int(value) + 1) if value == value.to_integral_value() else ()

    def __str__(self) -> str:
        return f"{self.feature} {self.op} {self.value}"


@dataclass(frozen=True)
class SegmentRule:
    name: str
    summary: str
    conditions: tuple[Condition, ...]

    def matches(self, features: FeatureValues) -> bool:
        return all(condition.holds(features) for condition in self.conditions)

    def matches_apart_from_recency(self, features: FeatureValues) -> bool:
        return all(condition.holds(features) for condition in self._other_conditions)

    def matches_recency(self, recency_days: int | None) -> bool:
        """Whether the recency conditions hold (no recency holds none of them)."""
        conditions = self._recency_conditions
        if not conditions:
            return True
        return recency_days is not None and all(
            _COMPARE[condition.op](recency_days, condition.value) for condition in conditions
        )

    @cached_property
    def _recency_conditions(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.feature is Feature.RECENCY_DAYS)

    @cached_property
    def _other_conditions(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.feature is not Feature.RECENCY_DAYS)

    @property
    def definition(self) -> str:
        if not self.conditions:
            return f"{self.summary} (every customer no earlier segment matched)"
        return f"{self.summary} ({' and '.join(str(c) for c in self.conditions)})"


@dataclass(frozen=True)
class SegmentTable:
    """Segments in precedence order; the last one has no conditions and catches the rest."""

    rules: tuple[SegmentRule, ...]

    def __post_init__(self) -> None:
        if not self.rules:
            raise InvalidSegmentTable("the segment table is empty")
        names = [rule.name for rule in self.rules]
        for name in names:
            if not _NAME.match(name):
                raise InvalidSegmentTable(f"segment name {name!r} is not lower_snake_case")
        if len(set(names)) != len(names):
            raise InvalidSegmentTable("segment names must be unique")
        if self.rules[-1].conditions:
            raise InvalidSegmentTable("the last segment must have no conditions (the catch-all)")

    @classmethod
    def from_definitions(
        cls, definitions: Sequence[tuple[str, str, Sequence[str]]]
    ) -> SegmentTable:
        return cls(
            tuple(
                SegmentRule(name, summary, tuple(Condition.parse(text) for text in conditions))
                for name, summary, conditions in definitions
            )
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self.rules)

    def classify(self, features: FeatureValues) -> str:
        """The first segment, top-down, whose conditions all hold."""
        return next(rule.name for rule in self.rules if rule.matches(features))

    def classify_as_recency_grows(self, features: FeatureValues) -> tuple[str, int | None]:
        """The segment for ``features``, and the next recency (whole days above the current
        one) at which the table gives another segment while the other features stay as they
        are; None when no later recency does (or the customer has no recency)."""
        candidates = [rule for rule in self.rules if rule.matches_apart_from_recency(features)]
        recency = features[Feature.RECENCY_DAYS]
        assert recency is None or isinstance(recency, int)
        segment = _first_matching(candidates, recency)
        if recency is not None:
            for turn in self.recency_turns:
                if turn > recency and _first_matching(candidates, turn) != segment:
                    return segment, turn
        return segment, None

    @cached_property
    def recency_turns(self) -> tuple[int, ...]:
        """Recency (whole days) at which some condition of the table starts or stops holding,
        in increasing order: between two of them, recency alone changes no segment."""
        return tuple(
            sorted(
                {
                    point
                    for rule in self.rules
                    for condition in rule.conditions
                    if condition.feature is Feature.RECENCY_DAYS
                    for point in condition.turning_points()
                    if point > 0
                }
            )
        )


def _first_matching(rules: Sequence[SegmentRule], recency_days: int | None) -> str:
    """The first of ``rules`` (whose other conditions hold) whose recency conditions hold."""
    return next(rule.name for rule in rules if rule.matches_recency(recency_days))


DEFAULT_SEGMENT_DEFINITIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "loyal",
        "Recent, frequent, high-spending customers",
        ("recency_days < 15", "frequency >= 4", "monetary >= 500"),
    ),
    (
        "potential",
        "Recent repeat buyers with a rich behaviour profile",
        ("recency_days < 30", "frequency >= 2", "frequency <= 3", "behaviour_tags >= 3"),
    ),
    ("new", "First purchase within the last month", ("frequency = 1", "recency_days < 30")),
    (
        "win_back",
        "One-time buyers gone quiet after a complaint",
        ("recency_days > 90", "frequency = 1", "complaints >= 1"),
    ),
    (
        "at_risk",
        "High spenders who have stopped buying",
        ("monetary >= 500", "recency_days > 60", "recency_days <= 180"),
    ),
    ("dormant", "No purchase for more than half a year", ("recency_days > 180",)),
    ("prospect", "Known customers who have not bought (or kept) anything", ("frequency = 0",)),
    ("regular", "Everyone else", ()),
)

DEFAULT_SEGMENTS = SegmentTable.from_definitions(DEFAULT_SEGMENT_DEFINITIONS)
