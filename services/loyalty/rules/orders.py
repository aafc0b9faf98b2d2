"""What loyalty remembers of each order: its points, refunds and clawbacks so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(slots=True)
class OrderRecord:
    """One order; a refund may arrive before its order, so amount and placed_at are optional.

    `points_awarded` is what the order gave (credited plus held), less any of its held
    points an admin cancelled. `points_clawed_back` counts balance clawbacks and hold
    reductions alike, and never exceeds `points_awarded`.
    """

    order_id: str
    amount: Decimal | None = None
    placed_at: datetime | None = None
    points_awarded: int = 0
    refunded_amount: Decimal = Decimal(0)
    points_clawed_back: int = 0
    last_refund_at: datetime | None = None
    refund_source_ids: set[str] = field(default_factory=set)

    @property
    def is_placed(self) -> bool:
        return self.amount is not None

    @property
    def net_amount(self) -> Decimal:
        """What the order counts for toward the tier: its amount less refunds (0 until placed)."""
        if self.amount is None:
            return Decimal(0)
        return self.amount - min(self.refunded_amount, self.amount)


def clawback_due(
    order_points: int, order_amount: Decimal, refunded_amount: Decimal, already_clawed_back: int
) -> int:
    """Points still to take back so the total is the refunded share of the order's points.

    floor(order_points x refunded / amount) - already clawed back: flooring the cumulative
    share (not each refund) means partial refunds add up to exactly the order's points on a
    full refund and never beyond.
    """
    if order_amount <= 0 or order_points <= 0:
        return 0
    refunded = min(max(refunded_amount, Decimal(0)), order_amount)
    # Integer division of non-negative Decimals is exact: no rounding before the floor.
    share = int((Decimal(order_points) * refunded) // order_amount)
    return max(0, share - already_clawed_back)
