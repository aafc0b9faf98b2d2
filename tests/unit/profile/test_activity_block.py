"""The 360's activity block adds up its windows itself: it must give exactly what the
catalogue's features of the same names give, whatever the facts, whether or not a tag's
evaluation added up a window first, and right at a window's edge."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from services.profile.rules import facts as f
from services.profile.rules import feature_functions as fn
from services.profile.rules.summary import DAYS_30, DAYS_90, DAYS_365, activity
from tests.unit.profile.rule_inputs import NOW, inputs

CATEGORIES = ("wine", "shoes", "laptop", "toys")
REASONS = ("size_mismatch", "quality_defect", "other")


def _random_facts(rng: random.Random) -> f.CustomerFacts:
    facts = f.CustomerFacts()
    span = timedelta(days=400).total_seconds()
    for n in range(rng.randrange(40)):
        at = NOW - timedelta(seconds=rng.uniform(0, span))
        kind = rng.randrange(6)
        if kind == 0:
            facts = f.with_view(facts, category=rng.choice(CATEGORIES), at=at, now=at)
        elif kind == 1:
            amount = Decimal(f"{rng.uniform(1, 900):.2f}")
            items = [(rng.choice(CATEGORIES), 1, amount)]
            order = f.order_fact(f"o{n}", at, amount, items, "online")
            facts = f.with_order(facts, order=order, now=at)
        elif kind == 2:
            refund = f.RefundFact(f"o{n}", at, Decimal("5.00"), rng.choice(REASONS))
            facts = f.with_refund(facts, refund=refund, now=at)
        elif kind == 3:
            facts = f.with_review(facts, review=f.ReviewFact(at, rng.randint(1, 5)), now=at)
        elif kind == 4:
            ticket = f.TicketFact(f"t{n}", at, rng.choice(("inquiry", "complaint")), "other")
            facts = f.with_ticket(facts, ticket=ticket, now=at)
        else:
            complaint = f.ComplaintFact(f"t{n}", at, "quality")
            facts = f.with_complaint(facts, complaint=complaint, now=at)
    return facts


def _by_features(i: fn.ProfileInputs) -> dict[str, object]:
    rating = fn.avg_rating(i, DAYS_365, None)
    return {
        "orders_365d": fn.order_count(i, DAYS_365, None),
        "spend_365d": fn.spend(i, DAYS_365, None),
        "avg_order_value_365d": fn.avg_order_value(i, DAYS_365, None),
        "refunds_90d": fn.refunds(i, DAYS_90, None),
        "views_30d": fn.views(i, DAYS_30, None),
        "inquiries_30d": fn.inquiries(i, DAYS_30, None),
        "complaints_365d": fn.complaints(i, DAYS_365, None),
        "avg_rating_365d": None if rating is None else rating.quantize(fn.CENT),
    }


WINDOWED = (
    "orders_365d",
    "spend_365d",
    "avg_order_value_365d",
    "refunds_90d",
    "views_30d",
    "inquiries_30d",
    "complaints_365d",
    "avg_rating_365d",
)


def _block(i: fn.ProfileInputs) -> dict[str, object]:
    found = activity(i)
    return {name: getattr(found, name) for name in WINDOWED}


@pytest.mark.parametrize("seed", range(60))
def test_the_block_is_what_the_features_say(seed: int) -> None:
    facts = _random_facts(random.Random(seed))
    alone = _block(inputs(facts))
    after_the_tags = inputs(facts)
    expected = _by_features(after_the_tags)  # adds up every window the block reads
    assert alone == expected
    assert _block(after_the_tags) == expected
    assert str(alone["spend_365d"]) == str(expected["spend_365d"])  # the same digits


def test_a_day_exactly_a_window_old_is_out_and_nothing_is_zero() -> None:
    edge = NOW - DAYS_30
    facts = f.with_view(f.CustomerFacts(), category="wine", at=edge, now=edge)
    facts = f.with_view(facts, category="wine", at=edge + timedelta(seconds=1), now=NOW)
    block = activity(inputs(facts))
    assert block.views_30d == _by_features(inputs(facts))["views_30d"]
    empty = activity(inputs())
    nothing = (empty.orders_365d, str(empty.spend_365d), empty.avg_order_value_365d)
    assert nothing == (0, "0.00", None)
