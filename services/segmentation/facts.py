"""What segmentation knows about a customer, as plain values. Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class CustomerFacts:
    orders: tuple[OrderFact, ...] = ()
    tags: frozenset[str] = field(default_factory=frozenset)
    complaints_opened_at: tuple[datetime, ...] = ()
