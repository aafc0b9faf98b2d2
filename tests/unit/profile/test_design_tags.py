"""The DESIGN.md example tags, each at its boundary, with an injected ``now``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.profile.rules import facts as f
from services.profile.rules.tags import holds
from tests.unit.profile.rule_inputs import (
    DAY,
    MICROSECOND,
    NOW,
    ago,
    catalogue,
    order,
    tags,
    views,
    with_orders,
    with_refunds,
)


def rule_of(name: str):
    return next(tag.rule for tag in catalogue().tags if tag.name == name)


# appliance_intent: >= 12 views of smart-appliance categories in 30 days ----------------------


def test_eleven_appliance_views_are_not_intent_and_twelve_are() -> None:
    eleven = views("robot_vacuum", *(ago(hours=h) for h in range(11)))
    assert "appliance_intent" not in tags(eleven)
    twelve = views("refrigerator", ago(days=3), facts=eleven)
    assert "appliance_intent" in tags(twelve)


def test_a_view_exactly_30_days_old_is_outside_the_window() -> None:
    recent = views("smart_speaker", *(ago(hours=h) for h in range(11)))
    assert "appliance_intent" not in tags(views("air_purifier", ago(days=30), facts=recent))
    just_inside = ago(days=30) + MICROSECOND
    assert "appliance_intent" in tags(views("air_purifier", just_inside, facts=recent))


def test_the_tag_lapses_when_the_oldest_view_leaves_the_window() -> None:
    first = ago(days=29)
    facts = views("smart_lock", first, *(ago(hours=h) for h in range(11)))
    assert "appliance_intent" in tags(facts)
    assert "appliance_intent" in tags(facts, now=first + 30 * DAY - MICROSECOND)
    assert "appliance_intent" not in tags(facts, now=first + 30 * DAY)


def test_category_names_and_paths_are_matched_against_the_group() -> None:
    spelled = views("Robot Vacuum", *(ago(hours=h) for h in range(6)))
    pathed = views("appliances/dishwasher", *(ago(hours=h) for h in range(6)), facts=spelled)
    assert "appliance_intent" in tags(pathed)


def test_views_of_other_categories_do_not_count() -> None:
    facts = views("lipstick", *(ago(hours=h) for h in range(20)))
    facts = views("robot_vacuum", *(ago(hours=h) for h in range(11)), facts=facts)
    assert "appliance_intent" not in tags(facts)


# service_sensitive: >= 2 service inquiries in 30 days -----------------------------------------


def tickets(*specs: tuple[str, datetime]) -> f.CustomerFacts:
    facts = f.CustomerFacts()
    for n, (kind, at) in enumerate(specs):
        facts = f.with_ticket(facts, f.TicketFact(f"t-{n}", at, kind, "service"), now=NOW)
    return facts


def test_one_inquiry_is_not_sensitive_two_are() -> None:
    assert "service_sensitive" not in tags(tickets(("inquiry", ago(1))))
    assert "service_sensitive" in tags(tickets(("inquiry", ago(1)), ("inquiry", ago(29))))


def test_inquiries_30_days_apart_do_not_add_up() -> None:
    assert "service_sensitive" not in tags(tickets(("inquiry", ago(0)), ("inquiry", ago(30))))


def test_only_inquiries_count_as_service_inquiries() -> None:
    assert "service_sensitive" not in tags(tickets(("inquiry", ago(1)), ("repair", ago(2))))


# logistics_sensitive: a logistics complaint ---------------------------------------------------


def complaint(category: str, at: datetime, facts: f.CustomerFacts | None = None):
    fact = f.ComplaintFact(f"t-{category}-{at.timestamp()}", at, category)
    return f.with_complaint(facts or f.CustomerFacts(), fact, now=NOW)


def test_a_logistics_complaint_makes_a_customer_logistics_sensitive() -> None:
    assert "logistics_sensitive" in tags(complaint("logistics", ago(2)))
    assert "logistics_sensitive" not in tags(complaint("quality", ago(2)))


def test_logistics_sensitivity_lasts_365_days() -> None:
    assert "logistics_sensitive" in tags(complaint("logistics", ago(365) + MICROSECOND))
    assert "logistics_sensitive" not in tags(complaint("logistics", ago(365)))


# frequent_returner: >= 3 refunds in 90 days or a refund rate >= 30 % --------------------------


def ten_orders() -> f.CustomerFacts:
    return with_orders(*(order(f"o-{n}", ago(n + 1), "200.00") for n in range(10)))


def test_two_refunds_of_ten_orders_are_not_frequent_returning() -> None:
    facts = with_refunds(ten_orders(), ("o-0", ago(0.5)), ("o-1", ago(0.5)))
    assert "frequent_returner" not in tags(facts)  # 2 refunds, 20 %


def test_three_refunds_in_90_days_are() -> None:
    facts = with_refunds(ten_orders(), ("o-0", ago(0.5)), ("o-1", ago(0.5)), ("o-2", ago(0.5)))
    assert "frequent_returner" in tags(facts)


def test_a_refund_90_days_old_is_outside_the_window() -> None:
    many = with_orders(*(order(f"o-{n}", ago(100 + n), "200.00") for n in range(20)))
    many = with_orders(*(order(f"r-{n}", ago(n), "200.00") for n in range(10)), facts=many)
    facts = with_refunds(many, ("o-0", ago(90)), ("o-1", ago(1)), ("o-2", ago(1)))
    assert "frequent_returner" not in tags(facts)
    facts = with_refunds(many, ("o-0", ago(90) + MICROSECOND), ("o-1", ago(1)), ("o-2", ago(1)))
    assert "frequent_returner" in tags(facts)


def test_one_refunded_order_of_three_is_a_refund_rate_over_30_percent() -> None:
    three = with_orders(*(order(f"o-{n}", ago(n + 1), "200.00") for n in range(3)))
    assert "frequent_returner" in tags(with_refunds(three, ("o-0", ago(0.5))))
    four = with_orders(order("o-3", ago(5), "200.00"), facts=three)
    assert "frequent_returner" not in tags(with_refunds(four, ("o-0", ago(0.5))))  # 25 %


@pytest.mark.parametrize(("rate", "expected"), [("0.29", False), ("0.30", True), ("0.31", True)])
def test_the_refund_rate_branch_starts_at_exactly_30_percent(rate: str, expected: bool) -> None:
    values = {("refunds", 90): 1, ("refund_rate", 90): Decimal(rate)}
    assert holds(rule_of("frequent_returner"), lambda name, days: values[(name, days)]) is expected


# light_luxury_style, bargain_hunter -----------------------------------------------------------


def test_two_light_luxury_orders_make_the_style() -> None:
    one = with_orders(order("o-1", ago(10), "900.00", items=[("designer_bags", 1, "900.00")]))
    assert "light_luxury_style" not in tags(one)
    two = with_orders(order("o-2", ago(5), "500.00", items=[("silk", 1, "500.00")]), facts=one)
    assert "light_luxury_style" in tags(two)


def test_3000_yuan_of_light_luxury_in_a_year_makes_the_style() -> None:
    just_under = order("o-1", ago(10), "2999.99", items=[("fine_jewelry", 1, "2999.99")])
    assert "light_luxury_style" not in tags(with_orders(just_under))
    enough = order("o-1", ago(10), "3000.00", items=[("fine_jewelry", 2, "1500.00")])
    assert "light_luxury_style" in tags(with_orders(enough))


def discounted(order_id: str, days: float, paid: str) -> f.OrderFact:
    return order(order_id, ago(days), paid, items=[("snacks", 1, "100.00")])


def test_a_bargain_hunter_buys_mostly_at_a_discount() -> None:
    two_of_three = with_orders(
        discounted("o-1", 1, "80.00"), discounted("o-2", 2, "95.00"), discounted("o-3", 3, "100.00")
    )
    assert "bargain_hunter" in tags(two_of_three)  # 66 % of 3 orders at >= 5 % off


def test_a_4_percent_discount_is_not_a_bargain() -> None:
    facts = with_orders(
        discounted("o-1", 1, "80.00"), discounted("o-2", 2, "96.00"), discounted("o-3", 3, "100.00")
    )
    assert "bargain_hunter" not in tags(facts)  # 1 of 3


def test_two_discounted_orders_are_too_few_to_call_a_bargain_hunter() -> None:
    facts = with_orders(discounted("o-1", 1, "50.00"), discounted("o-2", 2, "50.00"))
    assert "bargain_hunter" not in tags(facts)


# birthday_this_month (business time zone), vip ------------------------------------------------


def test_the_birthday_month_starts_at_midnight_in_the_business_time_zone() -> None:
    birthday = date(1990, 3, 17)
    shanghai_march_1st = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert "birthday_this_month" in tags(birthday=birthday, now=shanghai_march_1st)
    assert "birthday_this_month" not in tags(
        birthday=birthday, now=shanghai_march_1st - MICROSECOND
    )
    assert "birthday_this_month" not in tags(now=shanghai_march_1st)


@pytest.mark.parametrize(
    ("tier", "vip"), [("gold", True), ("platinum", True), ("silver", False), (None, False)]
)
def test_vip_is_gold_or_platinum(tier: str | None, vip: bool) -> None:
    assert ("vip" in tags(tier=tier)) is vip
