"""Rows to response models."""

from __future__ import annotations

from services.ticketing.models import (
    Agent,
    CustomerTier,
    PriorityChange,
    SlaPolicyVersion,
    Ticket,
    TicketResponse,
)
from services.ticketing.rules import DEFAULT_TIER, SlaPolicy
from services.ticketing.schemas import (
    AgentPublic,
    CustomerTierPublic,
    PriorityChangePublic,
    ResponsePublic,
    SlaPolicyPublic,
    TicketPublic,
)


def change_public(change: PriorityChange) -> PriorityChangePublic:
    return PriorityChangePublic(
        reason=change.reason,
        tier=change.tier,  # type: ignore[arg-type]
        old_priority=change.old_priority,  # type: ignore[arg-type]
        new_priority=change.new_priority,  # type: ignore[arg-type]
        old_response_due_at=change.old_response_due_at,
        new_response_due_at=change.new_response_due_at,
        at=change.changed_at,
    )


def ticket_public(ticket: Ticket) -> TicketPublic:
    return TicketPublic(
        id=ticket.id,
        customer_id=ticket.customer_id,
        kind=ticket.kind,  # type: ignore[arg-type]
        category=ticket.category,  # type: ignore[arg-type]
        subject=ticket.subject,
        description=ticket.description,
        status=ticket.status,  # type: ignore[arg-type]
        opened_at=ticket.opened_at,
        priority=ticket.priority,  # type: ignore[arg-type]
        tier=ticket.tier,  # type: ignore[arg-type]
        response_due_at=ticket.response_due_at,
        first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at,
        csat=ticket.csat,
        assignee=ticket.assignee_id,
        sla_breached_at=ticket.sla_breached_at,
        follow_up_of=ticket.follow_up_of,
        erased=ticket.erased_at is not None,
        history=[change_public(change) for change in ticket.history],
    )


def response_public(response: TicketResponse, first_response: bool) -> ResponsePublic:
    return ResponsePublic(
        id=response.id,
        ticket_id=response.ticket_id,
        agent_id=response.agent_id,
        body=response.body,
        responded_at=response.responded_at,
        first_response=first_response,
    )


def agent_public(agent: Agent, open_tickets: int) -> AgentPublic:
    return AgentPublic(
        agent_id=agent.agent_id,
        name=agent.name,
        skills=agent.skills,  # type: ignore[arg-type]
        senior=agent.senior,
        active=agent.active,
        open_tickets=open_tickets,
    )


def policy_public(policy: SlaPolicy, row: SlaPolicyVersion | None) -> SlaPolicyPublic:
    """`row` None: the built-in defaults, version 0."""
    return SlaPolicyPublic.model_validate(
        {
            **policy.to_dict(),
            "version": row.version if row is not None else 0,
            "effective_at": row.effective_at if row is not None else None,
            "changed_by": row.changed_by if row is not None else None,
        }
    )


def tier_public(customer_id: str, known: CustomerTier | None) -> CustomerTierPublic:
    return CustomerTierPublic.model_validate(
        {
            "customer_id": customer_id,
            "tier": known.tier if known is not None else str(DEFAULT_TIER),
            "known": known is not None,
            "changed_at": known.changed_at if known is not None else None,
        }
    )
