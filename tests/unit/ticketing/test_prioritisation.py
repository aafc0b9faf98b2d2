from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.ticketing.rules.prioritisation import on_tier_changed, reprioritise
from services.ticketing.rules.ticket import apply_change
from services.ticketing.rules.values import ChangeReason, Priority, TicketKind, TicketStatus, Tier
from tests.unit.ticketing.ticket_states import POLICY, T0, ticket

HOUR = timedelta(hours=1)


def test_complaint_raises_an_open_inquiry_of_a_gold_customer_to_p1_due_within_4h() -> None:
    inquiry = ticket(TicketKind.INQUIRY, Tier.GOLD, opened_at=T0)
    complaint_time = T0 + 2 * HOUR

    change = reprioritise(inquiry, Tier.GOLD, complaint_time, POLICY)

    assert change is not None
    assert change.reason is ChangeReason.COMPLAINT_OPENED
    assert (change.old_priority, change.new_priority) == (Priority.P3, Priority.P1)
    assert change.old_response_due_at == T0 + 4 * HOUR
    assert change.new_response_due_at == T0 + 4 * HOUR  # already earlier than complaint + 4 h
    assert change.new_response_due_at <= complaint_time + 4 * HOUR
    assert change.tier is Tier.GOLD
    assert change.changed_at == complaint_time


def test_complaint_of_a_bronze_customer_gives_p2_and_keeps_24h() -> None:
    inquiry = ticket(TicketKind.INQUIRY, Tier.BRONZE, opened_at=T0)
    change = reprioritise(inquiry, Tier.BRONZE, T0 + HOUR, POLICY)

    assert change is not None
    assert change.new_priority is Priority.P2
    assert change.new_response_due_at == T0 + 24 * HOUR


def test_due_is_counted_from_the_complaint_for_an_older_ticket() -> None:
    # Opened as bronze two days ago (due passed), the customer is gold when complaining.
    inquiry = ticket(TicketKind.INQUIRY, Tier.BRONZE, opened_at=T0 - 48 * HOUR)
    change = reprioritise(inquiry, Tier.GOLD, T0, POLICY)

    assert change is not None
    assert change.new_response_due_at == inquiry.response_due_at  # never later

    recent = ticket(TicketKind.INQUIRY, Tier.BRONZE, opened_at=T0 - 10 * HOUR)
    change = reprioritise(recent, Tier.GOLD, T0, POLICY)
    assert change is not None
    assert change.new_response_due_at == T0 + 4 * HOUR


def test_complaint_time_before_the_ticket_counts_from_opened_at() -> None:
    # The complaint event arrives late; its business time precedes this ticket.
    inquiry = ticket(TicketKind.INQUIRY, Tier.BRONZE, opened_at=T0)
    change = reprioritise(inquiry, Tier.GOLD, T0 - 5 * HOUR, POLICY)

    assert change is not None
    assert change.new_response_due_at == T0 + 4 * HOUR


def test_priority_is_never_lowered() -> None:
    escalated = replace(ticket(TicketKind.INQUIRY, Tier.BRONZE), priority=Priority.P1)
    assert reprioritise(escalated, Tier.BRONZE, T0 + HOUR, POLICY) is None


def test_due_is_never_moved_later() -> None:
    inquiry = ticket(TicketKind.INQUIRY, Tier.BRONZE, opened_at=T0)
    early_due = replace(inquiry, response_due_at=T0 + HOUR)
    change = reprioritise(early_due, Tier.BRONZE, T0 + 2 * HOUR, POLICY)

    assert change is not None
    assert change.new_priority is Priority.P2
    assert change.new_response_due_at == T0 + HOUR


def test_the_complaint_ticket_itself_and_a_duplicate_event_change_nothing() -> None:
    complaint = ticket(TicketKind.COMPLAINT, Tier.GOLD, opened_at=T0)
    assert reprioritise(complaint, Tier.GOLD, T0, POLICY) is None

    inquiry = ticket(TicketKind.INQUIRY, Tier.GOLD, opened_at=T0)
    change = reprioritise(inquiry, Tier.GOLD, T0, POLICY)
    assert change is not None
    assert reprioritise(apply_change(inquiry, change), Tier.GOLD, T0, POLICY) is None


def test_resolved_tickets_are_left_alone() -> None:
    resolved = replace(ticket(), status=TicketStatus.RESOLVED)
    assert reprioritise(resolved, Tier.GOLD, T0, POLICY) is None
    assert on_tier_changed(resolved, Tier.GOLD, T0, POLICY) is None


def test_answered_ticket_keeps_its_due_time_but_rises_in_priority() -> None:
    answered = replace(ticket(opened_at=T0), first_response_at=T0 + HOUR)
    change = reprioritise(answered, Tier.GOLD, T0 + 2 * HOUR, POLICY)

    assert change is not None
    assert change.new_priority is Priority.P1
    assert not change.response_due_changed


def test_upgrade_pulls_the_due_time_forward_and_raises_complaints() -> None:
    complaint = ticket(TicketKind.COMPLAINT, Tier.SILVER, opened_at=T0)
    change = on_tier_changed(complaint, Tier.PLATINUM, T0 + HOUR, POLICY)

    assert change is not None
    assert change.reason is ChangeReason.TIER_CHANGED
    assert (change.old_priority, change.new_priority) == (Priority.P2, Priority.P1)
    assert change.new_response_due_at == T0 + 5 * HOUR
    assert change.tier is Tier.PLATINUM


def test_upgrade_keeps_the_priority_of_other_tickets() -> None:
    inquiry = ticket(TicketKind.INQUIRY, Tier.BRONZE, opened_at=T0)
    change = on_tier_changed(inquiry, Tier.GOLD, T0 + HOUR, POLICY)

    assert change is not None
    assert change.new_priority is Priority.P3
    assert change.new_response_due_at == T0 + 5 * HOUR


def test_downgrade_changes_nothing() -> None:
    complaint = ticket(TicketKind.COMPLAINT, Tier.GOLD, opened_at=T0)
    assert on_tier_changed(complaint, Tier.BRONZE, T0 + HOUR, POLICY) is None


def test_apply_change_records_the_new_state() -> None:
    inquiry = ticket(TicketKind.INQUIRY, Tier.BRONZE, opened_at=T0)
    change = reprioritise(inquiry, Tier.GOLD, T0 + HOUR, POLICY)
    assert change is not None

    updated = apply_change(inquiry, change)

    assert (updated.priority, updated.tier) == (Priority.P1, Tier.GOLD)
    assert updated.response_due_at == T0 + 5 * HOUR
    assert updated.sla_breached_at is None


tiers = st.sampled_from(list(Tier))
priorities = st.sampled_from(list(Priority))
kinds = st.sampled_from(list(TicketKind))
offsets = st.integers(min_value=-500, max_value=500).map(lambda hours: hours * HOUR)


@given(kinds, tiers, tiers, priorities, offsets, offsets, st.booleans())
def test_complaint_and_tier_change_only_ever_make_a_ticket_more_urgent(
    kind: TicketKind,
    opened_tier: Tier,
    tier: Tier,
    priority: Priority,
    due_shift: timedelta,
    event_shift: timedelta,
    complaint: bool,
) -> None:
    current = replace(
        ticket(kind, opened_tier, opened_at=T0),
        priority=priority,
        response_due_at=T0 + abs(due_shift),
    )
    rule = reprioritise if complaint else on_tier_changed
    change = rule(current, tier, T0 + event_shift, POLICY)

    if change is None:
        return
    assert change.new_priority.rank <= current.priority.rank
    assert change.new_response_due_at <= current.response_due_at
    assert change.priority_changed or change.response_due_changed
    if complaint:
        assert change.new_priority.rank <= POLICY.complaint_priority[tier].rank
    assert change.new_response_due_at >= min(
        current.response_due_at, T0 + POLICY.first_response_time(tier)
    )
