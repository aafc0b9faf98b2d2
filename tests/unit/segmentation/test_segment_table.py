"""The segment table as data: parsing, validation, definitions and first-match-wins."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.segmentation.rules.segments import (
    DEFAULT_SEGMENTS,
    Condition,
    Feature,
    InvalidSegmentTable,
    SegmentTable,
)


def features(**values: object) -> dict[Feature, object]:
    base: dict[Feature, object] = {feature: 0 for feature in Feature}
    base[Feature.MONETARY] = Decimal(0)
    return {**base, **{Feature(k): v for k, v in values.items()}}


def test_the_default_table_is_the_design_table_in_order() -> None:
    assert DEFAULT_SEGMENTS.names == (
        "loyal",
        "potential",
        "new",
        "win_back",
        "at_risk",
        "dormant",
        "prospect",
        "regular",
    )


def test_a_definition_shows_the_rule_the_code_evaluates() -> None:
    loyal = DEFAULT_SEGMENTS.rules[0]

    assert "recency_days < 15 and frequency >= 4 and monetary >= 500" in loyal.definition


def test_first_matching_segment_wins() -> None:
    table = SegmentTable.from_definitions(
        [
            ("big", "big spenders", ["monetary >= 1000"]),
            ("busy", "many orders", ["frequency >= 2"]),
            ("rest", "the rest", []),
        ]
    )

    assert table.classify(features(monetary=Decimal(1000), frequency=5)) == "big"
    assert table.classify(features(monetary=Decimal("999.99"), frequency=5)) == "busy"
    assert table.classify(features(frequency=1)) == "rest"


def test_no_recency_condition_holds_for_a_customer_who_never_ordered() -> None:
    assert not Condition.parse("recency_days > 180").holds(features(recency_days=None))
    assert not Condition.parse("recency_days < 15").holds(features(recency_days=None))


@pytest.mark.parametrize(
    "text", ["recency < 15", "frequency => 4", "monetary >= lots", "frequency >= NaN", ""]
)
def test_a_malformed_condition_is_refused(text: str) -> None:
    with pytest.raises(InvalidSegmentTable):
        Condition.parse(text)


def test_the_table_must_end_with_a_catch_all() -> None:
    with pytest.raises(InvalidSegmentTable, match="last segment"):
        SegmentTable.from_definitions([("loyal", "x", ["frequency >= 4"])])


def test_segment_names_are_unique_snake_case() -> None:
    with pytest.raises(InvalidSegmentTable, match="unique"):
        SegmentTable.from_definitions([("a", "x", ["frequency = 1"]), ("a", "y", [])])
    with pytest.raises(InvalidSegmentTable, match="snake"):
        SegmentTable.from_definitions([("Win Back", "x", [])])
