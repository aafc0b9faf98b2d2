"""Tickets and moments for the rule tests; each test makes its own ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.ticketing.rules.sla import SlaPolicy
from services.ticketing.rules.ticket import TicketState, open_ticket
from services.ticketing.rules.values import TicketCategory, TicketKind, Tier

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
POLICY = SlaPolicy()


def new_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ticket(
    kind: TicketKind = TicketKind.INQUIRY,
    tier: Tier = Tier.BRONZE,
    opened_at: datetime = T0,
    category: TicketCategory = TicketCategory.LOGISTICS,
    policy: SlaPolicy = POLICY,
) -> TicketState:
    return open_ticket(new_id(), kind, category, tier, opened_at, policy)
