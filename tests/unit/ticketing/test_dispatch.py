from __future__ import annotations

import pytest

from services.ticketing.rules import (
    Agent,
    TicketCategory,
    TicketKind,
    Tier,
    choose_agent,
    requires_senior,
)

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
