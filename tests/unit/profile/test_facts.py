"""Recording facts: dedupe, lifetime counters, retention, figures per day, the stored form."""

from __future__ import annotations

from decimal import Decimal

from services.profile.repository.facts import facts_from_json, facts_to_json
from services.profile.rules import customer as c
from services.profile.rules import facts as f
from services.profile.rules.days import day_of
from tests.unit.profile.rule_inputs import MICROSECOND, NOW, ago, order, views, with_orders


def test_an_order_announced_twice_counts_once() -> None:
    placed = order("o-1", ago(3), "1299.00")
    facts = with_orders(placed, placed)
    assert sum(day.orders for day in facts.orders.values()) == 1
    assert facts.lifetime.orders == 1
    assert facts.lifetime.spend == Decimal("1299.00")


def test_lifetime_counters_outlive_the_retention() -> None:
    facts = with_orders(order("o-old", ago(400), "50.00"), order("o-new", ago(1), "70.00"))
    assert [day.first for day in facts.orders.values()] == [ago(1)]
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
    assert [(day.first, dict(day.by_category)) for day in facts.views.values()] == [
        (ago(90) + MICROSECOND, {"tv": 1})
    ]
    assert f.pruned(facts, NOW + MICROSECOND).views == {}


def test_facts_are_figures_per_day_whatever_their_number() -> None:
    times = [ago(minutes=n) for n in range(500)]  # NOW is noon: all of them on one day
    facts = views("tv", *times, facts=views("Robot Vacuum", ago(minutes=3)))
    (day,) = facts.views.values()
    assert dict(day.by_category) == {"tv": 500, "robot_vacuum": 1}
    assert day.first == min(times)  # the day leaves a window when its first view does


def test_a_ticket_a_complaint_and_a_resolution_count_once_per_ticket() -> None:
    facts, status = f.CustomerFacts(), None
    for _ in range(2):
        if c.first_opening(status):
            facts = f.with_ticket(facts, f.TicketFact("t-1", ago(1), "inquiry", "service"), NOW)
        status, _opened = c.ticket_opened(status, ago(1))
        status, counts = c.complaint_opened(status, ago(1))
        if counts:
            facts = f.with_complaint(facts, f.ComplaintFact("t-1", ago(1), "logistics"), NOW)
        if c.first_resolution(status):
            facts = f.with_resolution(facts, f.ResolutionFact("t-1", ago(0), 5), NOW)
        status, _closed = c.ticket_resolved(status, ago(0))
    tickets, complaints = facts.tickets[day_of(ago(1))], facts.complaints[day_of(ago(1))]
    resolutions = facts.resolutions[day_of(ago(0))]
    assert (dict(tickets.by_category), tickets.inquiries) == ({"service": 1}, 1)
    assert dict(complaints.by_category) == {"logistics": 1}
    assert (resolutions.low, resolutions.high) == (0, 1)


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
    # Orders known by id are rows of their own (repository/orders.py), not in the document.
    assert facts_from_json(facts_to_json(facts)) == facts._replace(known_orders={})
    assert facts_from_json(None) == f.CustomerFacts()
