from __future__ import annotations

from dataclasses import replace

import pytest

from services.ticketing.rules.dispatch import (
    Agent,
    Staff,
    agent_for,
    assignee_after_breach,
    assignee_when_more_urgent,
    choose_agent,
    hand_over,
    requires_senior,
    senior_for_callback,
)
from services.ticketing.rules.values import TicketCategory, TicketKind, Tier
from tests.unit.ticketing.ticket_states import T0, ticket

LOGISTICS = TicketCategory.LOGISTICS
QUALITY = TicketCategory.QUALITY


def agent(
    agent_id: str, *skills: TicketCategory, senior: bool = False, active: bool = True
) -> Agent:
    return Agent(id=agent_id, skills=frozenset(skills), senior=senior, active=active)


def test_only_agents_with_the_skill_are_chosen() -> None:
    agents = [agent("a1", QUALITY), agent("a2", LOGISTICS, QUALITY)]
    chosen = choose_agent(agents, LOGISTICS, needs_senior=False, loads={})
    assert chosen is not None and chosen.id == "a2"


def test_least_loaded_agent_wins() -> None:
    agents = [agent("a1", LOGISTICS), agent("a2", LOGISTICS), agent("a3", LOGISTICS)]
    chosen = choose_agent(agents, LOGISTICS, needs_senior=False, loads={"a1": 3, "a2": 1, "a3": 2})
    assert chosen is not None and chosen.id == "a2"


def test_an_agent_missing_from_loads_has_none() -> None:
    agents = [agent("a1", LOGISTICS), agent("a2", LOGISTICS)]
    chosen = choose_agent(agents, LOGISTICS, needs_senior=False, loads={"a1": 1})
    assert chosen is not None and chosen.id == "a2"


def test_ties_go_to_the_smallest_id_whatever_the_input_order() -> None:
    agents = [agent("b", LOGISTICS), agent("a", LOGISTICS), agent("c", LOGISTICS)]
    for ordering in (agents, list(reversed(agents))):
        chosen = choose_agent(ordering, LOGISTICS, needs_senior=False, loads={})
        assert chosen is not None and chosen.id == "a"


def test_senior_only_tickets_skip_juniors_even_when_idle() -> None:
    agents = [agent("junior", LOGISTICS), agent("senior", LOGISTICS, senior=True)]
    chosen = choose_agent(agents, LOGISTICS, needs_senior=True, loads={"senior": 9})
    assert chosen is not None and chosen.id == "senior"


def test_seniors_also_take_ordinary_tickets() -> None:
    agents = [agent("junior", LOGISTICS), agent("senior", LOGISTICS, senior=True)]
    chosen = choose_agent(agents, LOGISTICS, needs_senior=False, loads={"junior": 2})
    assert chosen is not None and chosen.id == "senior"


def test_inactive_agents_are_skipped() -> None:
    agents = [agent("away", LOGISTICS, active=False), agent("here", LOGISTICS)]
    chosen = choose_agent(agents, LOGISTICS, needs_senior=False, loads={"here": 5})
    assert chosen is not None and chosen.id == "here"


@pytest.mark.parametrize(
    "agents",
    [
        [],
        [agent("a1", QUALITY)],
        [agent("a1", LOGISTICS)],
        [agent("a1", LOGISTICS, senior=True, active=False)],
    ],
)
def test_nobody_fits(agents: list[Agent]) -> None:
    assert choose_agent(agents, LOGISTICS, needs_senior=True, loads={}) is None


@pytest.mark.parametrize(
    ("kind", "tier", "breached", "expected"),
    [
        (TicketKind.INQUIRY, Tier.BRONZE, False, False),
        (TicketKind.COMPLAINT, Tier.SILVER, False, False),
        (TicketKind.INQUIRY, Tier.GOLD, False, True),
        (TicketKind.RETURN, Tier.PLATINUM, False, True),
        (TicketKind.CALLBACK, Tier.BRONZE, False, True),
        (TicketKind.INQUIRY, Tier.BRONZE, True, True),
    ],
)
def test_requires_senior(kind: TicketKind, tier: Tier, breached: bool, expected: bool) -> None:
    assert requires_senior(kind, tier, breached=breached) is expected


def test_a_callback_goes_to_a_senior_with_the_skill_first() -> None:
    agents = [agent("s1", QUALITY, senior=True), agent("s2", LOGISTICS, senior=True)]
    chosen = senior_for_callback(agents, LOGISTICS, loads={"s2": 5})
    assert chosen is not None and chosen.id == "s2"


def test_a_callback_falls_back_to_any_active_senior_but_never_a_junior() -> None:
    agents = [
        agent("junior", LOGISTICS),
        agent("s1", QUALITY, senior=True),
        agent("s2", senior=True),
        agent("away", LOGISTICS, senior=True, active=False),
    ]
    chosen = senior_for_callback(agents, LOGISTICS, loads={"s1": 2})
    assert chosen is not None and chosen.id == "s2"
    assert senior_for_callback([agent("junior", LOGISTICS)], LOGISTICS, loads={}) is None


def test_agent_for_applies_seniority_to_vip_breached_and_callback_tickets() -> None:
    staff = Staff([agent("junior", LOGISTICS), agent("senior", QUALITY, senior=True)])
    inquiry = ticket(TicketKind.INQUIRY, Tier.BRONZE)

    assert _id(agent_for(inquiry, staff)) == "junior"
    assert agent_for(ticket(TicketKind.INQUIRY, Tier.GOLD), staff) is None
    assert agent_for(replace(inquiry, sla_breached_at=T0), staff) is None
    assert _id(agent_for(ticket(TicketKind.CALLBACK, Tier.BRONZE), staff)) == "senior"


def test_a_ticket_grown_urgent_keeps_an_agent_who_still_fits() -> None:
    staff = Staff([agent("junior", LOGISTICS), agent("senior", LOGISTICS, senior=True)])
    bronze, gold = ticket(tier=Tier.BRONZE), ticket(tier=Tier.GOLD)

    assert assignee_when_more_urgent(bronze, "junior", staff) == "junior"
    assert assignee_when_more_urgent(gold, "junior", staff) == "senior"
    assert assignee_when_more_urgent(gold, None, staff) == "senior"
    assert assignee_when_more_urgent(gold, "junior", Staff([agent("junior", LOGISTICS)])) == (
        "junior"
    )


def test_a_ticket_grown_urgent_leaves_an_inactive_agent() -> None:
    staff = Staff([agent("away", LOGISTICS, active=False), agent("here", LOGISTICS)])
    assert assignee_when_more_urgent(ticket(), "away", staff) == "here"


def test_a_breached_ticket_goes_to_a_senior_or_stays_where_it_is() -> None:
    breached = replace(ticket(), sla_breached_at=T0)
    juniors = Staff([agent("junior", LOGISTICS)])
    with_senior = Staff([agent("junior", LOGISTICS), agent("senior", LOGISTICS, senior=True)])

    assert assignee_after_breach(breached, "junior", with_senior) == "senior"
    assert assignee_after_breach(breached, "junior", juniors) == "junior"


def test_handing_over_counts_the_tickets_handed_over_before() -> None:
    staff = Staff(
        [agent("away", LOGISTICS, active=False), agent("a", LOGISTICS), agent("b", LOGISTICS)],
        loads={"away": 3, "b": 1},
    )
    held = [ticket(), ticket(), ticket(category=QUALITY)]

    assert hand_over(held, staff) == {held[0].id: "a", held[1].id: "a", held[2].id: None}


def test_reassigning_moves_one_ticket_of_load() -> None:
    staff = Staff([agent("a", LOGISTICS), agent("b", LOGISTICS)], loads={"a": 2})

    moved = staff.reassigned("a", "b")

    assert (moved.loads["a"], moved.loads["b"]) == (1, 1)
    assert staff.reassigned("a", "a") is staff
    assert dict(staff.loads) == {"a": 2}


def _id(chosen: Agent | None) -> str | None:
    return chosen.id if chosen is not None else None
