"""What events and erasure do to a customer's profile, and the moment tags are evaluated at. Pure.

The latest tier and segment by event time win; a silence keeps its furthest end; open tickets
are counted per ticket id; an erased customer never gets personal data or consents back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from shared.events.catalogue import CustomerRegistered, CustomerUpdated

PERSONAL_FIELDS = ("name", "email", "phone", "birthday")
# What customer.registered and customer.updated may set.
EVENT_FIELDS = (*PERSONAL_FIELDS, "referrer_id", "consents")


@dataclass(frozen=True)
class CustomerProfile:
    """The customer 360's own state: profile and consents, and what other services said."""

    customer_id: str
    updated_at: datetime
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    birthday: date | None = None
    referrer_id: str | None = None
    consents: Mapping[str, bool] = field(default_factory=dict)
    registered_at: datetime | None = None
    open_tickets: int = 0
    erased_at: datetime | None = None
    # Latest tier, segment and silence, each as of the business time of the event that said so.
    tier: str | None = None
    tier_since: datetime | None = None
    segment: str | None = None
    segment_since: datetime | None = None
    silenced_until: datetime | None = None
    silence_reason: str | None = None
    # Tags were last evaluated as of tags_as_of, with the catalogue tags_catalogue (its
    # fingerprint); time alone may change them at tags_review_at.
    tags_as_of: datetime | None = None
    tags_review_at: datetime | None = None
    tags_catalogue: str | None = None

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


def first_heard_of(customer_id: str, at: datetime) -> CustomerProfile:
    """A customer an event names before any registration reached this service."""
    return CustomerProfile(customer_id=customer_id, updated_at=at)


def with_profile_fields(
    profile: CustomerProfile, data: CustomerRegistered | CustomerUpdated
) -> CustomerProfile:
    """The fields the event carries (those it set); consents merge per channel. An erased
    customer never gets personal data or consents back."""
    fields = data.model_dump(exclude_unset=True, include=set(EVENT_FIELDS))
    if profile.erased:
        fields = {k: v for k, v in fields.items() if k not in (*PERSONAL_FIELDS, "consents")}
    consents = fields.pop("consents", None)
    if consents is not None:
        fields["consents"] = {**profile.consents, **consents}
    return replace(profile, **fields)


def registered(profile: CustomerProfile, data: CustomerRegistered, at: datetime) -> CustomerProfile:
    profile = with_profile_fields(profile, data)
    return replace(
        profile,
        registered_at=profile.registered_at or at,
        updated_at=max(profile.updated_at, at),
    )


def updated(profile: CustomerProfile, data: CustomerUpdated, at: datetime) -> CustomerProfile:
    profile = with_profile_fields(profile, data)
    return replace(profile, updated_at=max(profile.updated_at, at))


def with_tier(profile: CustomerProfile, tier: str, at: datetime) -> CustomerProfile:
    """The latest tier by event time wins: an older tier.changed arriving late is ignored."""
    if profile.tier_since is not None and at < profile.tier_since:
        return profile
    return replace(profile, tier=tier, tier_since=at)


def with_segment(profile: CustomerProfile, segment: str, at: datetime) -> CustomerProfile:
    if profile.segment_since is not None and at < profile.segment_since:
        return profile
    return replace(profile, segment=segment, segment_since=at)


def with_silence(profile: CustomerProfile, until: datetime, reason: str) -> CustomerProfile:
    """A later complaint extends a silence and never shortens it: keep the furthest end."""
    if profile.silenced_until is not None and until <= profile.silenced_until:
        return profile
    return replace(profile, silenced_until=until, silence_reason=reason)


def silenced(until: datetime, now: datetime) -> bool:
    """A silence lasting ``until`` is on at ``now``."""
    return until > now


@dataclass(frozen=True)
class TicketStatus:
    """Whether a ticket is open, so the open-ticket count survives events out of order; and
    whether its complaint was counted, so a complaint counts once per ticket."""

    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    complained_at: datetime | None = None


def ticket_opened(status: TicketStatus | None, at: datetime) -> tuple[TicketStatus, int]:
    """The ticket after its opening, and by how much the open-ticket count changes (0 or 1):
    a ticket opened twice counts once."""
    if status is None:
        return TicketStatus(opened_at=at), 1
    if status.opened_at is not None:
        return status, 0
    # Resolved before its opening arrived: it was never open here.
    return replace(status, opened_at=at), 0 if status.resolved_at is not None else 1


def first_opening(status: TicketStatus | None) -> bool:
    """Whether a ticket.opened is the ticket's first: only that one counts as a ticket."""
    return status is None or status.opened_at is None


def ticket_resolved(status: TicketStatus | None, at: datetime) -> tuple[TicketStatus, int]:
    """The ticket after its resolution, and the change of the open-ticket count (0 or -1): a
    resolution handled before its opening leaves a resolved ticket the opening then finds."""
    if status is None:
        return TicketStatus(resolved_at=at), 0
    if status.resolved_at is not None:
        return status, 0
    return replace(status, resolved_at=at), -1 if status.opened_at is not None else 0


def first_resolution(status: TicketStatus | None) -> bool:
    """Whether a ticket.resolved is the ticket's first: only that one counts as a resolution."""
    return status is None or status.resolved_at is None


def complaint_opened(status: TicketStatus | None, at: datetime) -> tuple[TicketStatus, bool]:
    """The ticket after a complaint about it, and whether the complaint counts (once per
    ticket)."""
    if status is not None and status.complained_at is not None:
        return status, False
    return replace(status or TicketStatus(), complained_at=at), True


def with_open_tickets(profile: CustomerProfile, change: int) -> CustomerProfile:
    if not change:
        return profile
    return replace(profile, open_tickets=max(0, profile.open_tickets + change))


def erased(profile: CustomerProfile, now: datetime) -> CustomerProfile | None:
    """The profile without personal data and consents, no longer reviewed for tags; None for a
    customer already erased (erasing again changes nothing and announces nothing)."""
    if profile.erased:
        return None
    return replace(
        profile,
        name=None,
        email=None,
        phone=None,
        birthday=None,
        consents={},
        erased_at=now,
        updated_at=max(profile.updated_at, now),
        tags_review_at=None,
    )


def evaluation_moment(profile: CustomerProfile, at: datetime) -> datetime:
    """The business moment to evaluate tags at: ``at``, but never before the last evaluation,
    so a late event or a lagging clock never turns a customer's tags back in time."""
    last = profile.tags_as_of
    return at if last is None else max(at, last)
