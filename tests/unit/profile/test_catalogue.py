"""The bundled tag catalogue, and the loader refusing catalogues it could not evaluate."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from services.profile.rules.catalogue import CatalogueError, parse_catalogue
from services.profile.rules.tags import TAG_GROUPS, AnyOf, Condition
from tests.unit.profile.rule_inputs import catalogue

DESIGN_TAGS = {
    "appliance_intent",
    "service_sensitive",
    "logistics_sensitive",
    "frequent_returner",
    "light_luxury_style",
    "bargain_hunter",
    "birthday_this_month",
    "vip",
}


def test_the_catalogue_has_50_tags_in_every_group_including_the_design_examples() -> None:
    bundled = catalogue()
    assert len(bundled.tags) >= 50
    assert {tag.group for tag in bundled.tags} == set(TAG_GROUPS)
    assert bundled.names >= DESIGN_TAGS


def test_the_design_numbers_are_in_the_data() -> None:
    rules = {tag.name: tag.rule for tag in catalogue().tags}
    assert rules["appliance_intent"] == Condition("views.smart_appliance", ">=", 12, 30)
    assert rules["service_sensitive"] == Condition("inquiries", ">=", 2, 30)
    assert rules["frequent_returner"] == AnyOf(
        (Condition("refunds", ">=", 3, 90), Condition("refund_rate", ">=", Decimal("0.3"), 90))
    )
    assert rules["vip"] == Condition("tier", "in", ("gold", "platinum"))
    assert "robot_vacuum" in catalogue().category_groups["smart_appliance"]


def one_tag(rule: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    tag = {"name": "t", "description": "d", "group": "behaviour", "rule": rule, **overrides}
    return {"category_groups": {"g": ["a"]}, "tags": [tag]}


VIEWS = {"feature": "views.g", "operator": ">=", "threshold": 1, "window_days": 30}


def test_a_valid_catalogue_loads() -> None:
    loaded = parse_catalogue(one_tag({"all": [VIEWS, {**VIEWS, "feature": "views"}]}))
    assert loaded.names == {"t"}
    assert loaded.windows_by_source() == {"views": {30}}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({**VIEWS, "feature": "clicks"}, "unknown feature"),
        ({**VIEWS, "feature": "views.nope"}, "unknown category_group"),
        ({**VIEWS, "window_days": None}, "window_days"),
        ({**VIEWS, "window_days": 91}, "from 1 to 90"),
        ({"feature": "lifetime_orders", "operator": ">=", "threshold": 1, "window_days": 30}, "no"),
        ({**VIEWS, "operator": "~"}, "operator"),
        ({**VIEWS, "threshold": "many"}, "number"),
        ({**VIEWS, "threshold": True}, "number"),
        ({"feature": "tier", "operator": "in", "threshold": ["diamond"]}, "unknown value"),
        ({"feature": "tier", "operator": ">=", "threshold": "gold"}, "label"),
        ({"feature": "silenced", "operator": ">=", "threshold": True}, "flag"),
        ({"feature": "channel_share", "operator": ">=", "threshold": 1, "window_days": 9}, "needs"),
        (
            {"feature": "complaints.weather", "operator": ">=", "threshold": 1, "window_days": 9},
            "unknown ticket_category",
        ),
        ({"any": []}, "non-empty"),
        ({**VIEWS, "extra": 1}, "unknown rule keys"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_tag(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogueError, match="tag 't'") as raised:
        parse_catalogue(one_tag(rule))
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Not Snake"}, "snake_case"),
        ({"group": "mood"}, "group must be one of"),
        ({"description": " "}, "description"),
    ],
)
def test_a_bad_tag_is_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(one_tag(VIEWS, **overrides))


def test_a_tag_defined_twice_is_refused() -> None:
    data = one_tag(VIEWS)
    data["tags"].append(dict(data["tags"][0]))
    with pytest.raises(CatalogueError, match="defined twice: t"):
        parse_catalogue(data)
