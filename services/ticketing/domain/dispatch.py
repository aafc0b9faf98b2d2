"""Choosing the agent for a ticket."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.ticketing.domain.values import TicketCategory, TicketKind, Tier


@dataclass(frozen=True)
class Agent:
    id: str
    skills: frozenset[TicketCategory]
    senior: bool = False
    active: bool = True

    def can_take(self, category: TicketCategory, needs_senior: bool) -> bool:
        return self.active and category in self.skills and (self.senior or not needs_senior)


def requires_senior(kind: TicketKind, tier: Tier, *, breached: bool = False) -> bool:
    """VIP tickets, complaint callbacks and breached tickets go to senior agents only."""
    return tier.is_vip or kind is TicketKind.CALLBACK or breached


def choose_agent(
    agents: Iterable[Agent],
    category: TicketCategory,
    needs_senior: bool,
    loads: Mapping[str, int],
) -> Agent | None:
    """The least-loaded active agent with the category's skill (and seniority if needed);
    ties go to the smallest agent id. `loads` maps agent id to open assigned tickets (missing
    means 0). None when nobody fits: the ticket waits unassigned in the queue."""
    candidates = [agent for agent in agents if agent.can_take(category, needs_senior)]
    if not candidates:
        return None
    return min(candidates, key=lambda agent: (loads.get(agent.id, 0), agent.id))
