"""The pure parts of handling: profile fields after erasure, the evaluation moment, assessment."""

from __future__ import annotations

from datetime import date, datetime

from services.profile.handlers import apply_profile_fields
from services.profile.models import Customer
from services.profile.profiling import Profiler
from shared.events.catalogue import CustomerUpdated
from tests.unit.profile.builders import DAY, NOW, SHANGHAI, ago, catalogue, views


def profiler() -> Profiler:
    return Profiler(catalogue=catalogue(), timezone=SHANGHAI, source="loopcrm/profile")


def customer(**fields: object) -> Customer:
    defaults: dict[str, object] = {"consents": {}, "updated_at": NOW, "open_tickets": 0}
    return Customer(customer_id="c-1", **{**defaults, **fields})


def test_an_update_sets_given_fields_and_merges_consents() -> None:
    someone = customer(name="Li", consents={"email": True})
    update = CustomerUpdated.model_validate(
        {"customer_id": "c-1", "phone": "+8613800000000", "consents": {"sms": True}}
    )
    apply_profile_fields(someone, update)
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
    apply_profile_fields(erased, update)
    assert (erased.name, erased.email, erased.birthday) == (None, None, None)
    assert erased.consents == {}
    assert erased.referrer_id == "c-0"


def test_tags_are_never_evaluated_back_in_time() -> None:
    someone = customer(tags_as_of=NOW)
    assert profiler().moment(someone, ago(3)) == NOW
    assert profiler().moment(someone, NOW + DAY) == NOW + DAY
    assert profiler().moment(customer(), ago(3)) == ago(3)


def test_an_assessment_gives_the_tags_and_the_next_review() -> None:
    facts = views("robot_vacuum", *(ago(days=2, minutes=m) for m in range(12)))
    someone = customer(tier="gold", birthday=date(1990, 6, 1))
    assessment = profiler().assess(profiler().inputs(someone, facts, NOW))
    assert {"appliance_intent", "vip", "birthday_this_month"} <= assessment.tags
    # The new month (birthday) comes before the oldest view leaves its 30-day window.
    assert assessment.review_at == datetime(2026, 7, 1, tzinfo=SHANGHAI)
    without_birthday = profiler().assess(profiler().inputs(customer(), facts, NOW))
    assert without_birthday.review_at == ago(days=2, minutes=11) + 30 * DAY
