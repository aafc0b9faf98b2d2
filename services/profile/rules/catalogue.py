"""The tag catalogue's data turned into rules, refusing a catalogue that could not be evaluated.

The bundled catalogue is ``tag_catalogue.json`` next to this file; ``tag_catalogue_path`` in
the settings points at another (the settings read the file). A bad catalogue stops the service
at start-up, naming the tag. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

from services.profile.rules.facts import normalise_category
from services.profile.rules.features import FEATURES, FeatureSpec, split_feature
from services.profile.rules.tags import (
    OPERATORS,
    TAG_GROUPS,
    AllOf,
    AnyOf,
    Condition,
    Rule,
    TagCatalogue,
    TagDefinition,
    Threshold,
)
from shared.events.catalogue import RefundReason, TicketCategory, Tier

BUNDLED_CATALOGUE = Path(__file__).with_name("tag_catalogue.json")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ORDERING = (">=", ">", "<=", "<")
_ARGUMENT_VALUES: dict[str, frozenset[str]] = {
    "ticket_category": frozenset(get_args(TicketCategory)),
    "refund_reason": frozenset(get_args(RefundReason)),
    "consent_channel": frozenset({"email", "sms", "push", "wecom"}),
    "order_channel": frozenset({"online", "store"}),
}
_LABEL_VALUES: dict[str, frozenset[str]] = {"tier": frozenset(get_args(Tier))}


class CatalogueError(ValueError):
    pass


def parse_catalogue(data: Mapping[str, Any]) -> TagCatalogue:
    groups = {
        str(name): frozenset(normalise_category(c) for c in members)
        for name, members in dict(data.get("category_groups") or {}).items()
    }
    tags = tuple(_tag(entry, groups) for entry in data.get("tags") or ())
    names = [tag.name for tag in tags]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CatalogueError(f"tags defined twice: {', '.join(duplicates)}")
    return TagCatalogue(tags=tags, category_groups=groups)


def _tag(entry: Mapping[str, Any], groups: Mapping[str, frozenset[str]]) -> TagDefinition:
    name = str(entry.get("name", ""))
    if not _NAME.match(name):
        raise CatalogueError(f"tag name {name!r} is not snake_case")
    try:
        if entry.get("group") not in TAG_GROUPS:
            raise CatalogueError(f"group must be one of {', '.join(TAG_GROUPS)}")
        if not str(entry.get("description", "")).strip():
            raise CatalogueError("a description is required")
        rule = _rule(entry.get("rule"), groups)
    except CatalogueError as exc:
        raise CatalogueError(f"tag {name!r}: {exc}") from exc
    return TagDefinition(name, str(entry["description"]), entry["group"], rule)


def _rule(data: Any, groups: Mapping[str, frozenset[str]]) -> Rule:
    if not isinstance(data, Mapping):
        raise CatalogueError("a rule is an object")
    for combinator, kind in (("any", AnyOf), ("all", AllOf)):
        if combinator in data:
            parts = data[combinator]
            if not isinstance(parts, list) or not parts or len(data) != 1:
                raise CatalogueError(f"{combinator!r} takes a non-empty list and nothing else")
            return kind(tuple(_rule(part, groups) for part in parts))
    return _condition(data, groups)


def _condition(data: Mapping[str, Any], groups: Mapping[str, frozenset[str]]) -> Condition:
    unknown = set(data) - {"feature", "operator", "threshold", "window_days"}
    if unknown:
        raise CatalogueError(f"unknown rule keys {sorted(unknown)}")
    feature = str(data.get("feature", ""))
    base, argument = split_feature(feature)
    spec = FEATURES.get(base)
    if spec is None:
        raise CatalogueError(f"unknown feature {feature!r}")
    _check_argument(spec, feature, argument, groups)
    window_days = _window(spec, feature, data.get("window_days"))
    operator = data.get("operator")
    if operator not in OPERATORS:
        raise CatalogueError(f"{feature}: operator must be one of {', '.join(OPERATORS)}")
    threshold = _threshold(spec, base, operator, data.get("threshold"))
    return Condition(feature, operator, threshold, window_days)


def _check_argument(
    spec: FeatureSpec, feature: str, argument: str | None, groups: Mapping[str, frozenset[str]]
) -> None:
    if argument is None:
        if spec.argument_required:
            raise CatalogueError(f"{feature}: needs a {spec.argument} (e.g. {feature}.<name>)")
        return
    if spec.argument is None:
        raise CatalogueError(f"{feature}: this feature takes no argument")
    allowed = (
        groups.keys() if spec.argument == "category_group" else _ARGUMENT_VALUES[spec.argument]
    )
    if argument not in allowed:
        raise CatalogueError(f"{feature}: unknown {spec.argument} {argument!r}")


def _window(spec: FeatureSpec, feature: str, value: Any) -> int | None:
    if spec.retention is None:
        if value is not None:
            raise CatalogueError(f"{feature}: a lifetime feature takes no window_days")
        return None
    limit = spec.retention.days
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
        raise CatalogueError(f"{feature}: window_days must be a whole number from 1 to {limit}")
    return value


def _threshold(spec: FeatureSpec, base: str, operator: str, value: Any) -> Threshold:
    if spec.kind == "number":
        numeric = isinstance(value, int | Decimal) and not isinstance(value, bool)
        if not numeric or operator in ("in", "not_in"):
            raise CatalogueError(f"{base}: compare a number with a number")
        return value  # type: ignore[no-any-return]
    if spec.kind == "flag":
        if not isinstance(value, bool) or operator not in ("==", "!="):
            raise CatalogueError(f"{base}: a flag is compared with == or != true/false")
        return value
    values = value if isinstance(value, list) else [value]
    if operator in _ORDERING or (isinstance(value, list) != (operator in ("in", "not_in"))):
        raise CatalogueError(f"{base}: a label takes ==/!= with a text, in/not_in with a list")
    allowed = _LABEL_VALUES.get(base)
    if not all(isinstance(v, str) for v in values) or (allowed and not set(values) <= allowed):
        raise CatalogueError(f"{base}: unknown value in {values!r}")
    return tuple(values) if isinstance(value, list) else str(value)
