"""Value types of ticketing: tiers, priorities, ticket kinds, categories, statuses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class Tier(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"

    @property
    def is_vip(self) -> bool:
        return self in (Tier.GOLD, Tier.PLATINUM)


# Ticketing learns tiers from tier.changed; a customer it has not heard of yet is bronze.
DEFAULT_TIER = Tier.BRONZE


class Priority(StrEnum):
    """P1 is the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        """1 for P1 … 4 for P4: sorting by rank puts the most urgent first."""
        return int(self.value[1:])

    def is_more_urgent_than(self, other: Priority) -> bool:
        return self.rank < other.rank


def most_urgent(first: Priority, *others: Priority) -> Priority:
    return min((first, *others), key=lambda priority: priority.rank)


class TicketKind(StrEnum):
    INQUIRY = "inquiry"
    COMPLAINT = "complaint"
    RETURN = "return"
    REPAIR = "repair"
    # Opened by ticketing itself as the senior follow-up to a complaint, never through the API.
    CALLBACK = "callback"

    @property
    def takes_complaint_priority(self) -> bool:
        return self in (TicketKind.COMPLAINT, TicketKind.CALLBACK)


CUSTOMER_TICKET_KINDS = frozenset(
    {TicketKind.INQUIRY, TicketKind.COMPLAINT, TicketKind.RETURN, TicketKind.REPAIR}
)


class TicketCategory(StrEnum):
    LOGISTICS = "logistics"
    QUALITY = "quality"
    SIZE = "size"
    PAYMENT = "payment"
    INSTALLATION = "installation"
    SERVICE = "service"
    OTHER = "other"


class TicketStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ChangeReason(StrEnum):
    """Why a ticket's priority or response due time changed; named after the triggering event."""

    COMPLAINT_OPENED = "complaint.opened"
    TIER_CHANGED = "tier.changed"
    SLA_BREACHED = "sla.breached"


def require_aware(name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
