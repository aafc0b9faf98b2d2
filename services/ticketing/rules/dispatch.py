"""Choosing the agent for a ticket, and keeping or changing it as the ticket grows urgent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from services.ticketing.rules.ticket import TicketState
from services.ticketing.rules.values import TicketCategory, TicketKind, Tier


@dataclass(frozen=True)
class Agent:
    id: str
    skills: frozenset[TicketCategory]
    senior: bool = False
    active: bool = True

    def can_take(self, category: TicketCategory, needs_senior: bool) -> bool:
        return self.active and category in self.skills and (self.senior or not needs_senior)


@dataclass(frozen=True)
class Staff:
    """What dispatch decides on: the agents on record and how many open tickets each holds
    (an agent missing from `loads` holds none)."""

    agents: Sequence[Agent]
    loads: Mapping[str, int] = field(default_factory=dict)

    def agent(self, agent_id: str | None) -> Agent | None:
        return next((agent for agent in self.agents if agent.id == agent_id), None)

    def reassigned(self, old_assignee: str | None, new_assignee: str | None) -> Staff:
        """The staff once an open ticket has moved from `old_assignee` to `new_assignee`
        (None: the queue), so the next decision of the same transaction sees the new loads."""
        if old_assignee == new_assignee:
            return self
        loads = dict(self.loads)
        if old_assignee is not None:
            loads[old_assignee] = max(loads.get(old_assignee, 0) - 1, 0)
        if new_assignee is not None:
            loads[new_assignee] = loads.get(new_assignee, 0) + 1
        return Staff(self.agents, MappingProxyType(loads))


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
    return _least_loaded(candidates, loads)


def senior_for_callback(
    agents: Iterable[Agent], category: TicketCategory, loads: Mapping[str, int]
) -> Agent | None:
    """A senior with the complaint's skill; failing that any active senior, since a follow-up
    call is about the customer more than the category. None: it waits in the queue."""
    agents = list(agents)
    chosen = choose_agent(agents, category, True, loads)
    if chosen is None:
        chosen = _least_loaded([agent for agent in agents if agent.active and agent.senior], loads)
    return chosen


def agent_for(ticket: TicketState, staff: Staff) -> Agent | None:
    """Who a ticket is dispatched to: a callback to a senior (`senior_for_callback`), any other
    ticket to the least-loaded agent with the skill, a senior when `requires_senior`."""
    if ticket.kind is TicketKind.CALLBACK:
        return senior_for_callback(staff.agents, ticket.category, staff.loads)
    needs_senior = requires_senior(
        ticket.kind, ticket.tier, breached=ticket.sla_breached_at is not None
    )
    return choose_agent(staff.agents, ticket.category, needs_senior, staff.loads)


def assignee_when_more_urgent(
    ticket: TicketState, assignee_id: str | None, staff: Staff
) -> str | None:
    """After a ticket became more urgent: one that now needs a senior (VIP tier) but sits with
    a junior, an inactive agent or nobody is dispatched again; it is kept when nobody fits."""
    needs_senior = requires_senior(
        ticket.kind, ticket.tier, breached=ticket.sla_breached_at is not None
    )
    current = staff.agent(assignee_id)
    if current is not None and current.active and (current.senior or not needs_senior):
        return assignee_id
    chosen = agent_for(ticket, staff)
    return chosen.id if chosen is not None else assignee_id


def assignee_after_breach(ticket: TicketState, assignee_id: str | None, staff: Staff) -> str | None:
    """After a breach: the least-loaded senior with the skill. When there is none the current
    assignee keeps the ticket rather than leaving it with nobody."""
    chosen = choose_agent(staff.agents, ticket.category, True, staff.loads)
    return chosen.id if chosen is not None else assignee_id


def hand_over(tickets: Sequence[TicketState], staff: Staff) -> dict[str, str | None]:
    """An agent was deactivated: their open tickets, in the order given, go one by one to
    whoever `agent_for` picks (counting those handed over before), or back to the queue
    (None). Ticket id -> new assignee."""
    new_assignees: dict[str, str | None] = {}
    for ticket in tickets:
        chosen = agent_for(ticket, staff)
        new_assignees[ticket.id] = chosen.id if chosen is not None else None
        staff = staff.reassigned(None, new_assignees[ticket.id])
    return new_assignees


def _least_loaded(candidates: Sequence[Agent], loads: Mapping[str, int]) -> Agent | None:
    if not candidates:
        return None
    return min(candidates, key=lambda agent: (loads.get(agent.id, 0), agent.id))
