from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.ticketing.rules.sla import PolicyError, SlaPolicy, initial_priority, response_due_at
from services.ticketing.rules.values import Priority, TicketKind, Tier
from tests.unit.ticketing.ticket_states import POLICY, T0


@pytest.mark.parametrize(
    ("tier", "hours"),
    [(Tier.BRONZE, 24), (Tier.SILVER, 24), (Tier.GOLD, 4), (Tier.PLATINUM, 4)],
)
def test_response_is_due_after_the_tier_first_response_time(tier: Tier, hours: int) -> None:
    assert response_due_at(T0, tier, POLICY) == T0 + timedelta(hours=hours)


def test_fractional_hours_are_honoured() -> None:
    policy = SlaPolicy(first_response_hours={tier: 0.5 for tier in Tier})
    assert response_due_at(T0, Tier.GOLD, policy) == T0 + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("kind", "tier", "expected"),
    [
        (TicketKind.COMPLAINT, Tier.PLATINUM, Priority.P1),
        (TicketKind.COMPLAINT, Tier.GOLD, Priority.P1),
        (TicketKind.COMPLAINT, Tier.SILVER, Priority.P2),
        (TicketKind.COMPLAINT, Tier.BRONZE, Priority.P2),
        (TicketKind.CALLBACK, Tier.GOLD, Priority.P1),
        (TicketKind.CALLBACK, Tier.BRONZE, Priority.P2),
        (TicketKind.INQUIRY, Tier.PLATINUM, Priority.P3),
        (TicketKind.RETURN, Tier.GOLD, Priority.P3),
        (TicketKind.REPAIR, Tier.BRONZE, Priority.P3),
    ],
)
def test_initial_priority(kind: TicketKind, tier: Tier, expected: Priority) -> None:
    assert initial_priority(kind, tier, POLICY) is expected


def test_naive_opened_at_is_rejected() -> None:
    with pytest.raises(ValueError, match="opened_at"):
        response_due_at(datetime(2025, 3, 1, 9, 0), Tier.GOLD, POLICY)


def test_other_offsets_are_the_same_instant() -> None:
    plus_eight = T0.astimezone(timezone(timedelta(hours=8)))
    assert response_due_at(plus_eight, Tier.GOLD, POLICY) == T0 + timedelta(hours=4)


def test_dict_form_round_trips_and_is_json_shaped() -> None:
    data = POLICY.to_dict()
    assert data == {
        "first_response_hours": {"bronze": 24, "silver": 24, "gold": 4, "platinum": 4},
        "complaint_priority": {"bronze": "P2", "silver": "P2", "gold": "P1", "platinum": "P1"},
        "other_priority": "P3",
    }
    assert SlaPolicy.from_dict(data) == POLICY


def test_changed_policy_round_trips() -> None:
    policy = SlaPolicy.from_dict(
        {
            "first_response_hours": {"bronze": 48, "silver": 12, "gold": 2, "platinum": 1},
            "complaint_priority": {"bronze": "P3", "silver": "P2", "gold": "P1", "platinum": "P1"},
            "other_priority": "P4",
        }
    )
    assert policy.first_response_time(Tier.PLATINUM) == timedelta(hours=1)
    assert policy.complaint_priority[Tier.BRONZE] is Priority.P3
    assert SlaPolicy.from_dict(policy.to_dict()) == policy


def test_missing_top_level_fields_take_defaults() -> None:
    assert SlaPolicy.from_dict({"other_priority": "P4"}).first_response_hours == (
        POLICY.first_response_hours
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"first_response_hours": {"bronze": 24, "silver": 24, "gold": 4}}, "platinum"),
        ({"first_response_hours": {"diamond": 1}}, "first_response_hours.diamond"),
        ({"first_response_hours": [4]}, "first_response_hours"),
        (
            {"first_response_hours": {"bronze": 0, "silver": 24, "gold": 4, "platinum": 4}},
            "first_response_hours.bronze",
        ),
        (
            {"first_response_hours": {"bronze": "24", "silver": 24, "gold": 4, "platinum": 4}},
            "first_response_hours.bronze",
        ),
        (
            {"first_response_hours": {"bronze": True, "silver": 24, "gold": 4, "platinum": 4}},
            "first_response_hours.bronze",
        ),
        (
            {"first_response_hours": {"bronze": 1e9, "silver": 24, "gold": 4, "platinum": 4}},
            "first_response_hours.bronze",
        ),
        (
            {
                "complaint_priority": {
                    "bronze": "P0",
                    "silver": "P2",
                    "gold": "P1",
                    "platinum": "P1",
                }
            },
            "complaint_priority.bronze",
        ),
        ({"other_priority": "urgent"}, "other_priority"),
        (
            {
                "complaint_priority": {
                    "bronze": "P4",
                    "silver": "P2",
                    "gold": "P1",
                    "platinum": "P1",
                }
            },
            "complaint_priority.bronze",
        ),
    ],
)
def test_invalid_policy_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(PolicyError) as raised:
        SlaPolicy.from_dict(data)
    assert field in raised.value.field


def test_policy_cannot_be_changed_in_place() -> None:
    policy = SlaPolicy()
    with pytest.raises(TypeError):
        policy.first_response_hours[Tier.GOLD] = 1  # type: ignore[index]
