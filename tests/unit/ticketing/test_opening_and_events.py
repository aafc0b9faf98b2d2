"""When a ticket opens, and which events a ticket gives with what in them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.ticketing.rules import events
from services.ticketing.rules.breach import escalate_breach
from services.ticketing.rules.ticket import OpenedInTheFuture, opening_time
from services.ticketing.rules.values import TicketKind, Tier
from tests.unit.ticketing.ticket_states import T0, ticket

TICK = timedelta(microseconds=1)


def test_a_ticket_opens_now_or_at_an_imported_time_that_is_not_in_the_future() -> None:
    assert opening_time(None, T0) == T0
    assert opening_time(T0 - timedelta(days=3), T0) == T0 - timedelta(days=3)
    assert opening_time(T0, T0) == T0
    with pytest.raises(OpenedInTheFuture, match="must not be in the future"):
        opening_time(T0 + TICK, T0)


def test_a_callback_is_never_announced_as_opened_or_resolved() -> None:
    callback = ticket(TicketKind.CALLBACK)
    assert events.ticket_opened("c-1", callback) is None
    assert events.ticket_resolved("c-1", callback, T0, csat=5) is None
    assert events.complaint_opened("c-1", callback) is None


def test_a_complaint_is_announced_twice_and_without_its_subject() -> None:
    complaint = ticket(TicketKind.COMPLAINT, Tier.GOLD)

    opened = events.ticket_opened("c-1", complaint)
    complained = events.complaint_opened("c-1", complaint)

    assert opened is not None and (opened.kind, opened.priority) == ("complaint", "P1")
    assert complained is not None and complained.subject is None
    assert events.complaint_opened("c-1", ticket(TicketKind.INQUIRY)) is None


def test_a_breach_carries_what_was_missed() -> None:
    inquiry = ticket(TicketKind.INQUIRY, Tier.SILVER)
    change = escalate_breach(inquiry, T0 + timedelta(hours=25))
    assert change is not None

    breached = events.sla_breached("c-1", change)
    prioritized = events.ticket_prioritized("c-1", change)

    assert (breached.priority, breached.response_due_at) == ("P3", inquiry.response_due_at)
    assert (prioritized.old_priority, prioritized.new_priority) == ("P3", "P2")
    assert prioritized.reason == "sla.breached"
