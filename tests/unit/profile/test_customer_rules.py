"""The pure parts of handling: profile fields after erasure, the evaluation moment, assessment."""

from __future__ import annotations

from datetime import date, datetime

from services.profile.rules.customer import (
    CustomerProfile,
    TicketStatus,
    erased,
    evaluation_moment,
    ticket_opened,
    ticket_resolved,
    with_open_tickets,
    with_profile_fields,
    with_silence,
    with_tier,
)
from services.profile.rules.evaluation import Tagging
from shared.events.catalogue import CustomerUpdated
from tests.unit.profile.rule_inputs import DAY, NOW, SHANGHAI, ago, catalogue, views


def tagging() -> Tagging:
    return Tagging(catalogue=catalogue(), timezone=SHANGHAI)


def customer(**fields: object) -> CustomerProfile:
    defaults: dict[str, object] = {"consents": {}, "updated_at": NOW, "open_tickets": 0}
    return CustomerProfile(customer_id="c-1", **{**defaults, **fields})


def test_an_update_sets_given_fields_and_merges_consents() -> None:
    someone = customer(name="Li", consents={"email": True})
    update = CustomerUpdated.model_validate(
        {"customer_id": "c-1", "phone": "+8613800000000", "consents": {"sms": True}}
    )
    someone = with_profile_fields(someone, update)
    assert (someone.name, someone.phone) == ("Li", "+8613800000000")
    assert someone.consents == {"email": True, "sms": True}


def test_an_erased_customer_never_gets_personal_data_or_consents_back() -> None:
    erased = customer(erased_at=ago(1))
    update = CustomerUpdated.model_validate(
        {
            "customer_id": "c-1",
            "name": "Li",
            "email": "li@example.com",
            "birthday": "1990-01-01",
            "consents": {"email": True},
            "referrer_id": "c-0",
        }
    )
    erased = with_profile_fields(erased, update)
    assert (erased.name, erased.email, erased.birthday) == (None, None, None)
    assert erased.consents == {}
    assert erased.referrer_id == "c-0"


def test_tags_are_never_evaluated_back_in_time() -> None:
    someone = customer(tags_as_of=NOW)
    assert evaluation_moment(someone, ago(3)) == NOW
    assert evaluation_moment(someone, NOW + DAY) == NOW + DAY
    assert evaluation_moment(customer(), ago(3)) == ago(3)


def test_an_assessment_gives_the_tags_and_the_next_review() -> None:
    facts = views("robot_vacuum", *(ago(days=2, minutes=m) for m in range(12)))
    someone = customer(tier="gold", birthday=date(1990, 6, 1))
    assessment = tagging().assess(tagging().inputs(someone, facts, NOW))
    assert {"appliance_intent", "vip", "birthday_this_month"} <= assessment.tags
    # The new month (birthday) comes before the oldest view leaves its 30-day window.
    assert assessment.review_at == datetime(2026, 7, 1, tzinfo=SHANGHAI)
    without_birthday = tagging().assess(tagging().inputs(customer(), facts, NOW))
    assert without_birthday.review_at == ago(days=2, minutes=11) + 30 * DAY


def test_a_ticket_counts_as_open_once_and_a_resolution_before_its_opening_leaves_none() -> None:
    opened, change = ticket_opened(None, ago(2))
    assert (opened, change) == (TicketStatus(opened_at=ago(2)), 1)
    assert ticket_opened(opened, ago(1)) == (opened, 0)
    resolved, change = ticket_resolved(opened, ago(1))
    assert (resolved, change) == (TicketStatus(ago(2), ago(1)), -1)
    assert ticket_resolved(resolved, NOW) == (resolved, 0)

    early, change = ticket_resolved(None, ago(1))
    assert (early, change) == (TicketStatus(resolved_at=ago(1)), 0)
    assert ticket_opened(early, ago(2)) == (TicketStatus(ago(2), ago(1)), 0)
    assert with_open_tickets(customer(), -1).open_tickets == 0


def test_the_latest_tier_wins_and_a_silence_only_ever_extends() -> None:
    gold = with_tier(customer(), "gold", ago(1))
    assert with_tier(gold, "silver", ago(2)) == gold
    assert with_tier(gold, "platinum", NOW).tier == "platinum"
    silenced = with_silence(customer(), NOW + 10 * DAY, "complaint")
    assert with_silence(silenced, NOW + 5 * DAY, "complaint") == silenced
    assert with_silence(silenced, NOW + 20 * DAY, "sla").silenced_until == NOW + 20 * DAY


def test_erasure_clears_personal_data_once() -> None:
    someone = customer(name="Li", email="li@example.com", consents={"email": True}, tier="gold")
    gone = erased(someone, NOW)
    assert gone is not None
    assert (gone.name, gone.email, gone.consents, gone.erased_at) == (None, None, {}, NOW)
    assert gone.tier == "gold"
    assert erased(gone, NOW + DAY) is None
