"""The facts segmentation learns from events, as plain values, and which of them it keeps.
Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class OrderFact:
    """One order as placed, with everything refunded against it so far."""

    placed_at: datetime
    amount: Decimal
    refunded: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        """What the customer kept paying for; refunds beyond the amount count as a full refund."""
        return max(ZERO, self.amount - self.refunded)

    @property
    def fully_refunded(self) -> bool:
        """Refunded in full: treated as if it had never been placed (a cancelled purchase)."""
        return self.refunded > ZERO and self.refunded >= self.amount


def erased_by(erased_at: datetime | None, event_time: datetime) -> bool:
    """An event from before (or at) the customer's erasure is ignored, so a late or redelivered
    event cannot bring an erased customer back."""
    return erased_at is not None and event_time <= erased_at


def later_erasure(known: datetime | None, erased_at: datetime) -> datetime:
    """A customer erased twice is erased as of the later time."""
    return erased_at if known is None else max(known, erased_at)


def takes_tag_snapshot(known_as_of: datetime | None, snapshot_time: datetime) -> bool:
    """``profile.tagged`` carries the full tag set as of its time: an older snapshot arriving
    late is ignored."""
    return known_as_of is None or snapshot_time >= known_as_of


def snapshot_is_behind(snapshot_time: datetime | None, newest_order_at: datetime | None) -> bool:
    """A tag snapshot from before the newest order already counted here was taken before
    profile applied that order: its tags are the newest known, but deciding a segment on them
    would pair this order's frequency with tags that miss it (potential -> regular ->
    potential within a second). Such a snapshot is kept and the decision waits for profile's
    next snapshot or the settle time."""
    if snapshot_time is None or newest_order_at is None:
        return False
    return snapshot_time < newest_order_at


def tags_to_keep(tags: Iterable[str], behaviour_tags: Iterable[str] | None) -> list[str]:
    """Only behaviour tags feed the segment rules: profile names them when it knows the group;
    for older events without that field, every tag is kept (the policy then leaves out the
    status and calendar tags)."""
    return sorted(set(behaviour_tags if behaviour_tags is not None else tags))
