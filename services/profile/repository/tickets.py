"""Tickets by id (``ticket_states``): read for a run in one statement, written in one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

from sqlalchemy import Table, select

from services.profile.models import TicketState
from services.profile.rules.customer import TicketStatus
from shared.bulk import upsert
from shared.transaction import Transaction

_tickets = cast(Table, TicketState.__table__)


async def ticket_statuses(tx: Transaction, ticket_ids: Iterable[str]) -> dict[str, TicketStatus]:
    """The tickets found of ``ticket_ids``."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    rows = await tx.session.execute(
        select(
            _tickets.c.ticket_id,
            _tickets.c.opened_at,
            _tickets.c.resolved_at,
            _tickets.c.complained_at,
        ).where(_tickets.c.ticket_id.in_(ids))
    )
    return {row[0]: TicketStatus(*row[1:]) for row in rows}


async def save_ticket_statuses(
    tx: Transaction, statuses: Mapping[str, tuple[str, TicketStatus]]
) -> None:
    """Write tickets: ticket id -> (customer id, status)."""
    rows = [
        {
            "ticket_id": ticket_id,
            "customer_id": customer_id,
            "opened_at": status.opened_at,
            "resolved_at": status.resolved_at,
            "complained_at": status.complained_at,
        }
        for ticket_id, (customer_id, status) in statuses.items()
    ]
    await upsert(
        tx.session,
        _tickets,
        rows,
        key=["ticket_id"],
        update_columns=["opened_at", "resolved_at", "complained_at"],
    )
