from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.ticketing.rules.breach import escalate, escalate_breach, is_breached
from services.ticketing.rules.ticket import apply_change
from services.ticketing.rules.values import ChangeReason, Priority, TicketKind, TicketStatus, Tier
from tests.unit.ticketing.ticket_states import T0, ticket

TICK = timedelta(microseconds=1)


def test_breach_starts_just_after_the_due_time() -> None:
    gold = ticket(TicketKind.INQUIRY, Tier.GOLD, opened_at=T0)
    due = T0 + timedelta(hours=4)

    assert not is_breached(gold, due - TICK)
    assert not is_breached(gold, due)
    assert is_breached(gold, due + TICK)


def test_answered_resolved_or_already_breached_tickets_are_not_breached() -> None:
    late = T0 + timedelta(days=3)
    open_ticket = ticket(opened_at=T0)

    assert not is_breached(replace(open_ticket, first_response_at=T0 + timedelta(hours=1)), late)
    assert not is_breached(replace(open_ticket, status=TicketStatus.RESOLVED), late)
    assert not is_breached(replace(open_ticket, sla_breached_at=T0 + timedelta(days=2)), late)


@pytest.mark.parametrize(
    ("priority", "escalated"),
    [
        (Priority.P4, Priority.P3),
        (Priority.P3, Priority.P2),
        (Priority.P2, Priority.P1),
        (Priority.P1, Priority.P1),
    ],
)
def test_escalate_goes_one_level_up(priority: Priority, escalated: Priority) -> None:
    assert escalate(priority) is escalated


def test_breach_escalates_once() -> None:
    inquiry = ticket(TicketKind.INQUIRY, Tier.SILVER, opened_at=T0)
    now = T0 + timedelta(hours=25)

    change = escalate_breach(inquiry, now)

    assert change is not None
    assert change.reason is ChangeReason.SLA_BREACHED
    assert (change.old_priority, change.new_priority) == (Priority.P3, Priority.P2)
    assert not change.response_due_changed
    assert (change.tier, change.changed_at) == (Tier.SILVER, now)

    breached = apply_change(inquiry, change)
    assert breached.sla_breached_at == now
    assert escalate_breach(breached, now + timedelta(hours=1)) is None


def test_breach_of_a_p1_ticket_is_still_recorded() -> None:
    complaint = ticket(TicketKind.COMPLAINT, Tier.PLATINUM, opened_at=T0)
    change = escalate_breach(complaint, T0 + timedelta(hours=5))

    assert change is not None
    assert not change.priority_changed


def test_not_yet_due_ticket_gives_no_breach() -> None:
    assert escalate_breach(ticket(opened_at=T0), T0 + timedelta(hours=1)) is None
