from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from services.ticketing.rules.queue import in_work_order, queue_key
from services.ticketing.rules.values import Priority, TicketKind, Tier
from tests.unit.ticketing.ticket_states import T0, ticket

HOUR = timedelta(hours=1)


def test_queue_orders_by_priority_then_due_then_opened_then_id() -> None:
    old_bronze_p3 = ticket(TicketKind.INQUIRY, Tier.BRONZE, opened_at=T0 - 72 * HOUR)
    gold_p1_late = ticket(TicketKind.COMPLAINT, Tier.GOLD, opened_at=T0 + 2 * HOUR)
    gold_p1_early = ticket(TicketKind.COMPLAINT, Tier.GOLD, opened_at=T0)
    bronze_p2 = ticket(TicketKind.COMPLAINT, Tier.BRONZE, opened_at=T0 - 10 * HOUR)
    same_due_newer = replace(
        ticket(opened_at=T0 - HOUR), priority=Priority.P2, response_due_at=bronze_p2.response_due_at
    )
    twin_a = replace(ticket(opened_at=T0), id="a", priority=Priority.P4)
    twin_b = replace(twin_a, id="b")

    queue = in_work_order(
        [twin_b, old_bronze_p3, bronze_p2, twin_a, gold_p1_late, same_due_newer, gold_p1_early]
    )

    assert queue == [
        gold_p1_early,
        gold_p1_late,
        bronze_p2,
        same_due_newer,
        old_bronze_p3,
        twin_a,
        twin_b,
    ]


def test_queue_key_puts_p1_first() -> None:
    p1 = replace(ticket(), priority=Priority.P1)
    p2 = replace(ticket(), priority=Priority.P2)
    assert queue_key(p1) < queue_key(p2)
