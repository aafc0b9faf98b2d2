"""Raising priorities and pulling due times forward on complaint.opened and tier.changed.

Both rules only ever make a ticket more urgent: priority is never lowered and the response
due time is never moved later, so a late, repeated or out-of-order event cannot undo an
earlier, stricter decision.
"""

from __future__ import annotations

from datetime import datetime

from services.ticketing.rules.sla import SlaPolicy
from services.ticketing.rules.ticket import Change, TicketState
from services.ticketing.rules.values import (
    ChangeReason,
    Priority,
    Tier,
    most_urgent,
    require_aware,
)


def recomputed_response_due_at(
    ticket: TicketState, tier: Tier, reference_time: datetime, policy: SlaPolicy
) -> datetime:
    """min(current due, max(opened_at, reference_time) + tier SLA).

    The tier's SLA is counted from the moment ticketing learned of the new urgency (the
    complaint or tier change), not retroactively from opened_at: an older inquiry would
    otherwise be breached the instant its customer complained, before anyone could answer.
    Once the first response is given the SLA clock has stopped and the due time is history.
    """
    require_aware("reference_time", reference_time)
    if ticket.first_response_at is not None:
        return ticket.response_due_at
    start = max(ticket.opened_at, reference_time)
    return min(ticket.response_due_at, start + policy.first_response_time(tier))


def reprioritise(
    ticket: TicketState, tier: Tier, complaint_time: datetime, policy: SlaPolicy
) -> Change | None:
    """On complaint.opened, for each open ticket of the customer: raise priority to the tier's
    complaint priority and pull the due time forward. None when nothing changes."""
    return _make_more_urgent(
        ticket,
        tier,
        complaint_time,
        policy,
        target_priority=policy.complaint_priority[tier],
        reason=ChangeReason.COMPLAINT_OPENED,
    )


def on_tier_changed(
    ticket: TicketState, new_tier: Tier, changed_at: datetime, policy: SlaPolicy
) -> Change | None:
    """On tier.changed: pull the due time forward to the new tier's SLA; complaints and
    callbacks also rise to the new tier's complaint priority. A downgrade changes nothing,
    since neither priority nor due time ever relaxes. None when nothing changes."""
    target = ticket.priority
    if ticket.kind.takes_complaint_priority:
        target = policy.complaint_priority[new_tier]
    return _make_more_urgent(
        ticket,
        new_tier,
        changed_at,
        policy,
        target_priority=target,
        reason=ChangeReason.TIER_CHANGED,
    )


def _make_more_urgent(
    ticket: TicketState,
    tier: Tier,
    reference_time: datetime,
    policy: SlaPolicy,
    *,
    target_priority: Priority,
    reason: ChangeReason,
) -> Change | None:
    require_aware("reference_time", reference_time)
    if not ticket.is_open:
        return None
    new_priority = most_urgent(ticket.priority, target_priority)
    new_due = recomputed_response_due_at(ticket, tier, reference_time, policy)
    if new_priority is ticket.priority and new_due == ticket.response_due_at:
        return None
    return Change(
        ticket_id=ticket.id,
        reason=reason,
        tier=tier,
        changed_at=reference_time,
        old_priority=ticket.priority,
        new_priority=new_priority,
        old_response_due_at=ticket.response_due_at,
        new_response_due_at=new_due,
    )
