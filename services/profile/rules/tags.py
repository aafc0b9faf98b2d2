"""Tag rules and their evaluation: which catalogue tags hold for a customer's features. Pure.

A rule is a condition ``{feature, operator, threshold, window_days}`` or a combination
``{"any": [rules]}`` / ``{"all": [rules]}``. A condition on an undefined feature value (None:
an average with nothing to average) does not hold, whatever the operator.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, get_args

from services.profile.rules.features import FEATURES, Value, split_feature

Operator = Literal[">=", ">", "<=", "<", "==", "!=", "in", "not_in"]
OPERATORS: tuple[str, ...] = get_args(Operator)
TagGroup = Literal["behaviour", "value", "service", "lifecycle", "preference"]
TAG_GROUPS: tuple[str, ...] = get_args(TagGroup)
Threshold = int | Decimal | bool | str | tuple[str, ...]
Lookup = Callable[[str, int | None], Value]


@dataclass(frozen=True)
class Condition:
    feature: str
    operator: Operator
    threshold: Threshold
    window_days: int | None = None


@dataclass(frozen=True)
class AnyOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class AllOf:
    rules: tuple[Rule, ...]


Rule = Condition | AnyOf | AllOf


@dataclass(frozen=True)
class TagDefinition:
    name: str
    description: str
    group: TagGroup
    rule: Rule


@dataclass(frozen=True)
class TagCatalogue:
    tags: tuple[TagDefinition, ...]
    category_groups: Mapping[str, frozenset[str]]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(tag.name for tag in self.tags)

    def in_group(self, group: str) -> frozenset[str]:
        return frozenset(tag.name for tag in self.tags if tag.group == group)

    def windows_by_source(self) -> dict[str, frozenset[int]]:
        """The windows rules count each kind of fact in: where time alone can change a tag."""
        found: dict[str, set[int]] = {}
        for condition in self.conditions():
            spec = FEATURES[split_feature(condition.feature)[0]]
            if condition.window_days is not None:
                for source in spec.sources:
                    found.setdefault(source, set()).add(condition.window_days)
        return {source: frozenset(days) for source, days in found.items()}

    def conditions(self) -> Iterable[Condition]:
        for tag in self.tags:
            yield from conditions_of(tag.rule)

    def groups_used_by(self, tag: TagDefinition) -> dict[str, frozenset[str]]:
        """The category groups a tag's rule refers to (``views.smart_appliance`` -> ...)."""
        used = {c.feature.partition(".")[2] for c in conditions_of(tag.rule)}
        return {name: members for name, members in self.category_groups.items() if name in used}


@dataclass(frozen=True)
class TagChange:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    tags: tuple[str, ...]


def conditions_of(rule: Rule) -> Iterable[Condition]:
    if isinstance(rule, Condition):
        yield rule
        return
    for part in rule.rules:
        yield from conditions_of(part)


def compare(value: Value, operator: Operator, threshold: Threshold) -> bool:
    if value is None:
        return False
    if operator in ("in", "not_in"):
        assert isinstance(threshold, tuple)
        return (value in threshold) == (operator == "in")
    if operator == "==":
        return value == threshold
    if operator == "!=":
        return value != threshold
    if isinstance(value, bool | str) or isinstance(threshold, bool | str | tuple):
        return False  # ordering applies to numbers only; the catalogue loader refuses it
    if operator == ">=":
        return value >= threshold
    if operator == ">":
        return value > threshold
    if operator == "<=":
        return value <= threshold
    return value < threshold


def holds(rule: Rule, lookup: Lookup) -> bool:
    if isinstance(rule, Condition):
        return compare(lookup(rule.feature, rule.window_days), rule.operator, rule.threshold)
    if isinstance(rule, AnyOf):
        return any(holds(part, lookup) for part in rule.rules)
    return all(holds(part, lookup) for part in rule.rules)


def evaluate(catalogue: TagCatalogue, lookup: Lookup) -> frozenset[str]:
    """The tags whose rules hold; ``lookup(feature, window_days)`` gives feature values."""
    cache: dict[tuple[str, int | None], Value] = {}

    def cached(feature: str, window_days: int | None) -> Value:
        key = (feature, window_days)
        if key not in cache:
            cache[key] = lookup(feature, window_days)
        return cache[key]

    return frozenset(tag.name for tag in catalogue.tags if holds(tag.rule, cached))


Values = Callable[[int], Value]
"""The value of a compiled catalogue's i-th (feature, window_days), worked out when asked."""
Test = Callable[[Values], bool]
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_UNSET: Any = object()


@dataclass(frozen=True)
class CompiledTag:
    name: str
    test: Test
    reads: frozenset[str]  # what its features are worked out from (FeatureSpec.inputs)


@dataclass(frozen=True)
class CompiledCatalogue:
    """A catalogue's rules as functions, for evaluating many customers: ``features`` are the
    distinct (feature, window_days) the rules use, each worked out once per customer."""

    features: tuple[tuple[str, int | None], ...]
    tags: tuple[CompiledTag, ...]

    def evaluate(
        self, value_of: Callable[[int], Value], tags: Iterable[CompiledTag] | None = None
    ) -> frozenset[str]:
        """Which of ``tags`` (all by default) hold; ``value_of(i)`` gives the value of
        ``features[i]``, asked once at most."""
        values: list[Value] = [_UNSET] * len(self.features)

        def value(index: int) -> Value:
            found = values[index]
            if found is _UNSET:
                found = values[index] = value_of(index)
            return found

        chosen = self.tags if tags is None else tags
        return frozenset(tag.name for tag in chosen if tag.test(value))

    def reading(self, inputs: frozenset[str]) -> tuple[CompiledTag, ...]:
        """The tags that read any of ``inputs``."""
        return tuple(tag for tag in self.tags if not inputs.isdisjoint(tag.reads))


def compile_catalogue(catalogue: TagCatalogue) -> CompiledCatalogue:
    """The catalogue's rules as functions that decide as ``holds`` does."""
    index: dict[tuple[str, int | None], int] = {}
    for condition in catalogue.conditions():
        index.setdefault((condition.feature, condition.window_days), len(index))
    tags = tuple(
        CompiledTag(
            tag.name,
            _compiled(tag.rule, index),
            frozenset().union(
                *(FEATURES[split_feature(c.feature)[0]].inputs for c in conditions_of(tag.rule))
            ),
        )
        for tag in catalogue.tags
    )
    return CompiledCatalogue(tuple(index), tags)


def _compiled(rule: Rule, index: Mapping[tuple[str, int | None], int]) -> Test:
    if isinstance(rule, AnyOf | AllOf):
        parts = tuple(_compiled(part, index) for part in rule.rules)
        if isinstance(rule, AnyOf):
            return lambda value: any(part(value) for part in parts)
        return lambda value: all(part(value) for part in parts)
    i, threshold = index[(rule.feature, rule.window_days)], rule.threshold
    if rule.operator in ("in", "not_in"):
        assert isinstance(threshold, tuple)
        wanted = rule.operator == "in"
        return lambda value: (found := value(i)) is not None and (found in threshold) == wanted
    if rule.operator == "==":
        return lambda value: (found := value(i)) is not None and found == threshold
    if rule.operator == "!=":
        return lambda value: (found := value(i)) is not None and found != threshold
    if isinstance(threshold, bool | str | tuple):
        return lambda value: False  # ordering applies to numbers only
    ordered = _ORDERING[rule.operator]
    return lambda value: (
        (found := value(i)) is not None
        and not isinstance(found, bool | str)
        and ordered(found, threshold)
    )


def tag_change(old: Iterable[str], new: Iterable[str]) -> TagChange | None:
    """What profile.tagged says when the set moves from ``old`` to ``new``; None if it doesn't."""
    before, after = set(old), set(new)
    if before == after:
        return None
    return TagChange(
        added=tuple(sorted(after - before)),
        removed=tuple(sorted(before - after)),
        tags=tuple(sorted(after)),
    )


def rule_to_data(rule: Rule) -> dict[str, Any]:
    """The rule as the catalogue writes it (for the API)."""
    if isinstance(rule, AnyOf):
        return {"any": [rule_to_data(part) for part in rule.rules]}
    if isinstance(rule, AllOf):
        return {"all": [rule_to_data(part) for part in rule.rules]}
    threshold = list(rule.threshold) if isinstance(rule.threshold, tuple) else rule.threshold
    return {
        "feature": rule.feature,
        "operator": rule.operator,
        "threshold": threshold,
        "window_days": rule.window_days,
    }
