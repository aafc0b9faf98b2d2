"""The rule evaluator: operators, any/all, undefined values, and what a change announces."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.profile.rules.tags import (
    AllOf,
    AnyOf,
    Condition,
    TagCatalogue,
    TagDefinition,
    compare,
    evaluate,
    holds,
    rule_to_data,
    tag_change,
)


@pytest.mark.parametrize(
    ("value", "operator", "threshold", "expected"),
    [
        (12, ">=", 12, True),
        (11, ">=", 12, False),
        (12, ">", 12, False),
        (Decimal("0.30"), ">=", Decimal("0.3"), True),
        (Decimal("0.2999"), ">=", Decimal("0.3"), False),
        (2, "<=", 2, True),
        (3, "<", 3, False),
        (0, "==", 0, True),
        (1, "!=", 0, True),
        ("gold", "in", ("gold", "platinum"), True),
        ("silver", "in", ("gold", "platinum"), False),
        ("silver", "not_in", ("gold", "platinum"), True),
        (True, "==", True, True),
        (False, "==", True, False),
    ],
)
def test_compare(value, operator, threshold, expected) -> None:
    assert compare(value, operator, threshold) is expected


@pytest.mark.parametrize("operator", [">=", ">", "<=", "<", "==", "!=", "not_in"])
def test_an_undefined_value_satisfies_no_condition(operator: str) -> None:
    threshold = ("gold",) if operator == "not_in" else 0
    assert compare(None, operator, threshold) is False  # type: ignore[arg-type]


def lookup(values: dict[str, object]):
    return lambda feature, _days: values[feature]


def test_any_holds_when_one_part_does_and_all_when_every_part_does() -> None:
    a = Condition("a", ">=", 1, 30)
    b = Condition("b", ">=", 1, 30)
    assert holds(AnyOf((a, b)), lookup({"a": 0, "b": 1}))
    assert not holds(AnyOf((a, b)), lookup({"a": 0, "b": 0}))
    assert holds(AllOf((a, b)), lookup({"a": 1, "b": 1}))
    assert not holds(AllOf((a, b)), lookup({"a": 1, "b": 0}))


def test_combinations_nest() -> None:
    rule = AnyOf((Condition("a", "==", 1), AllOf((Condition("b", ">", 2), Condition("c", "<", 5)))))
    assert holds(rule, lookup({"a": 0, "b": 3, "c": 4}))
    assert not holds(rule, lookup({"a": 0, "b": 3, "c": 5}))


def test_evaluate_computes_each_feature_once_per_customer() -> None:
    calls: list[tuple[str, int | None]] = []

    def counting(feature: str, days: int | None) -> int:
        calls.append((feature, days))
        return 5

    shared = Condition("views", ">=", 3, 30)
    catalogue = TagCatalogue(
        tags=(
            TagDefinition("one", "d", "behaviour", shared),
            TagDefinition("two", "d", "behaviour", AllOf((shared, Condition("views", "<", 9, 30)))),
            TagDefinition("three", "d", "behaviour", Condition("views", ">=", 6, 30)),
        ),
        category_groups={},
    )
    assert evaluate(catalogue, counting) == {"one", "two"}
    assert calls == [("views", 30)]


def test_a_change_lists_what_was_added_and_removed_and_the_full_set() -> None:
    change = tag_change({"vip", "dormant"}, {"vip", "active_buyer", "repeat_buyer"})
    assert change is not None
    assert change.added == ("active_buyer", "repeat_buyer")
    assert change.removed == ("dormant",)
    assert change.tags == ("active_buyer", "repeat_buyer", "vip")


def test_no_change_announces_nothing() -> None:
    assert tag_change(["a", "b"], {"b", "a"}) is None


def test_a_rule_is_shown_as_the_catalogue_writes_it() -> None:
    rule = AnyOf((Condition("refunds", ">=", 3, 90), Condition("tier", "in", ("gold",))))
    assert rule_to_data(rule) == {
        "any": [
            {"feature": "refunds", "operator": ">=", "threshold": 3, "window_days": 90},
            {"feature": "tier", "operator": "in", "threshold": ["gold"], "window_days": None},
        ]
    }
