"""The handlers' evaluation takes shortcuts: the catalogue compiled to functions, a tag that
reads nothing the customer has answered once for all, and only the tags reading what changed
since the last evaluation (events, or time carrying a day across a window boundary, ending a
silence, starting a month) evaluated again. Whatever the customer and whenever, it gives the
tags the plain rules give."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.profile.rules import customer as c
from services.profile.rules import facts as f
from services.profile.rules.evaluation import CustomerState, Tagging
from services.profile.rules.features import feature_value
from services.profile.rules.tags import evaluate
from tests.unit.profile.rule_inputs import NOW, SHANGHAI, catalogue

CATEGORIES = ("robot_vacuum", "skincare", "silk", "laptop", "snacks", "toys", "pet_food", "tv")
TAGGING = Tagging(catalogue(), SHANGHAI)

ages = st.floats(min_value=0, max_value=400).map(lambda days: NOW - timedelta(days=days))
money = st.integers(min_value=1, max_value=800_000).map(lambda fen: Decimal(fen) / 100)


@st.composite
def fact_updates(draw: Any) -> Any:
    """One event's update of the facts, as the handlers apply it."""
    at = draw(ages)
    kind = draw(st.sampled_from(("view", "order", "refund", "review", "ticket", "complaint")))
    order_id = f"o-{draw(st.integers(0, 5))}"
    if kind == "view":
        return lambda facts, now: f.with_view(facts, draw(st.sampled_from(CATEGORIES)), at, now)
    if kind == "order":
        lines = draw(
            st.lists(st.tuples(st.sampled_from(CATEGORIES), st.integers(1, 12), money), max_size=3)
        )
        paid = draw(money)
        channel = draw(st.sampled_from(("online", "store", None)))
        order = f.order_fact(order_id, at, paid, lines, channel)
        return lambda facts, now: f.with_order(facts, order, now)
    if kind == "refund":
        reason = draw(st.sampled_from(("size_mismatch", "changed_mind", "other")))
        refund = f.RefundFact(order_id, at, draw(money), reason)
        return lambda facts, now: f.with_refund(facts, refund, now)
    if kind == "review":
        review = f.ReviewFact(at, draw(st.integers(1, 5)))
        return lambda facts, now: f.with_review(facts, review, now)
    category = draw(st.sampled_from(("logistics", "quality", "payment", "installation")))
    if kind == "ticket":
        ticket = f.TicketFact("t", at, draw(st.sampled_from(("inquiry", "repair"))), category)
        return lambda facts, now: f.with_ticket(facts, ticket, now)
    complaint = f.ComplaintFact("t", at, category)
    return lambda facts, now: f.with_complaint(facts, complaint, now)


@st.composite
def profiles(draw: Any) -> c.CustomerProfile:
    if not draw(st.booleans()):
        return c.first_heard_of("c-1", NOW - timedelta(days=500))
    return c.CustomerProfile(
        customer_id="c-1",
        updated_at=NOW - timedelta(days=500),
        birthday=draw(st.none() | st.dates(date(1960, 1, 1), date(2005, 12, 31))),
        registered_at=draw(st.none() | ages),
        tier=draw(st.sampled_from((None, "bronze", "silver", "gold", "platinum"))),
        silenced_until=draw(st.none() | ages.map(lambda at: at + timedelta(days=200))),
        open_tickets=draw(st.integers(0, 4)),
        consents=draw(st.dictionaries(st.sampled_from(("email", "sms", "push")), st.booleans())),
    )


def plain_tags(state: CustomerState, now: Any) -> frozenset[str]:
    inputs = TAGGING.inputs(state.profile, state.facts, now)
    return evaluate(TAGGING.catalogue, lambda name, days: feature_value(inputs, name, days))


def applied(state: CustomerState, updates: list[Any], now: Any) -> CustomerState:
    facts = state.facts
    for update in updates:
        facts = f.pruned(update(facts, now), now)
    return replace(state, facts=facts)


@settings(max_examples=200, deadline=None)
@given(
    profiles(),
    st.lists(fact_updates(), max_size=12),
    st.lists(fact_updates(), max_size=4),
    st.floats(min_value=0, max_value=400 * 24),
)
def test_the_handlers_evaluation_gives_the_plain_rules_tags(
    profile: c.CustomerProfile, history: list[Any], run: list[Any], hours_later: float
) -> None:
    before = TAGGING.reassess(applied(CustomerState(profile), history, NOW), NOW).state
    assert before.tags == plain_tags(before, NOW)

    later = NOW + timedelta(hours=hours_later)  # windows, silences, months may have passed
    after = applied(before, run, later)
    if run and len(run) % 2:
        after = replace(after, profile=c.with_tier(after.profile, "gold", later))
    incremental = TAGGING.reassess(after, later, before)
    assert incremental.state.tags == TAGGING.reassess(after, later).state.tags
    assert incremental.state.tags == plain_tags(after, later)
