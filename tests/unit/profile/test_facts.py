"""Recording facts: dedupe, lifetime counters, retention, the view cap, the stored form."""

from __future__ import annotations

from decimal import Decimal

from services.profile.repository.facts import facts_from_json, facts_to_json
from services.profile.rules import facts as f
from tests.unit.profile.rule_inputs import MICROSECOND, NOW, ago, order, views, with_orders


def test_an_order_announced_twice_counts_once() -> None:
    placed = order("o-1", ago(3), "1299.00")
    facts = with_orders(placed, placed)
    assert len(facts.orders) == 1
    assert facts.lifetime.orders == 1
    assert facts.lifetime.spend == Decimal("1299.00")


def test_lifetime_counters_outlive_the_retention() -> None:
    facts = with_orders(order("o-old", ago(400), "50.00"), order("o-new", ago(1), "70.00"))
    assert [o.order_id for o in facts.orders] == ["o-new"]
    assert facts.lifetime.orders == 2
    assert facts.lifetime.spend == Decimal("120.00")
    assert facts.lifetime.first_order_at == ago(400)
    assert facts.lifetime.last_order_at == ago(1)


def test_an_order_keeps_its_list_value_and_category_lines() -> None:
    placed = order(
        "o-1",
        ago(1),
        "900.00",
        items=[("Robot Vacuum", 1, "800.00"), ("pet-food", 2, "100.00")],
        channel="store",
    )
    assert placed.list_value == Decimal("1000.00")
    assert placed.quantity == 3
    assert dict(placed.category_values) == {
        "robot_vacuum": Decimal("800.00"),
        "pet_food": Decimal("200.00"),
    }


def test_views_are_kept_90_days() -> None:
    facts = views("tv", ago(90), ago(90) + MICROSECOND)
    assert facts.views == {"tv": (ago(90) + MICROSECOND,)}
    assert f.pruned(facts, NOW + MICROSECOND).views == {}


def test_only_the_newest_views_of_a_category_are_kept() -> None:
    times = [ago(minutes=n) for n in range(f.VIEWS_KEPT_PER_CATEGORY + 5)]
    facts = views("tv", *times)
    kept = facts.views["tv"]
    assert len(kept) == f.VIEWS_KEPT_PER_CATEGORY
    assert kept[-1] == NOW
    assert min(kept) == times[f.VIEWS_KEPT_PER_CATEGORY - 1]


def test_a_ticket_a_complaint_and_a_resolution_count_once_per_ticket() -> None:
    facts = f.CustomerFacts()
    for _ in range(2):
        facts = f.with_ticket(facts, f.TicketFact("t-1", ago(1), "inquiry", "service"), now=NOW)
        facts = f.with_complaint(facts, f.ComplaintFact("t-2", ago(1), "logistics"), now=NOW)
        facts = f.with_resolution(facts, f.ResolutionFact("t-1", ago(0), 5), now=NOW)
    assert (len(facts.tickets), len(facts.complaints), len(facts.resolutions)) == (1, 1, 1)


def test_the_stored_form_round_trips_exactly() -> None:
    facts = with_orders(
        order("o-1", ago(1, microseconds=7), "1299.10", items=[("silk", 1, "1299.10")]),
        order("o-2", ago(2), "5.00", channel=None),
        facts=views("tv", ago(seconds=1.5)),
    )
    facts = f.with_refund(facts, f.RefundFact("o-1", ago(0.5), Decimal("10.01"), "other"), NOW)
    facts = f.with_review(facts, f.ReviewFact(ago(0.2), 4), NOW)
    facts = f.with_ticket(facts, f.TicketFact("t", ago(0.1), "repair", "installation"), NOW)
    facts = f.with_complaint(facts, f.ComplaintFact("t", ago(0.1), "quality"), NOW)
    facts = f.with_resolution(facts, f.ResolutionFact("t", ago(0.05), None), NOW)
    assert facts_from_json(facts_to_json(facts)) == facts
    assert facts_from_json(None) == f.CustomerFacts()
