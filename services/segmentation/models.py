"""Tables of the segmentation service. Money is kept in fen (integer hundredths of a yuan)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, new_metadata
from shared.money import to_yuan


class Base(DeclarativeBase):
    metadata = new_metadata()


class SegmentMember(Base):
    """A customer's current segment, the features it was decided on, and the figures the
    rules need (bounded by the window: see ``rules/figures.py``). It is also the read model of
    ``GET /v1/customers/{id}/segment``."""

    __tablename__ = "segment_members"
    __table_args__ = (
        Index("ix_segment_members_segment_customer", "segment", "customer_id"),
        Index("ix_segment_members_review_at_customer", "review_at", "customer_id"),
    )

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    segment: Mapped[str] = mapped_column(String(32))
    segment_since: Mapped[datetime] = mapped_column(UtcDateTime())
    recency_days: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer, default=0)
    monetary_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    evaluated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    review_at: Mapped[datetime] = mapped_column(UtcDateTime())
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags_as_of: Mapped[datetime | None] = mapped_column(UtcDateTime())
    churn_alerted_peak: Mapped[date | None] = mapped_column(Date)
    settled_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """Until then the segment cannot change with time alone: a review only moves recency."""
    last_order_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recent_orders: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """[[placed_at, net fen], ...] of the kept orders of the window, oldest first."""
    recent_complaints: Mapped[list[str]] = mapped_column(JSON, default=list)
    monthly_net: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    """{"2026-06": net fen, ...} per business month, the last ``months_kept`` months."""

    @property
    def monetary(self) -> Decimal:
        return to_yuan(self.monetary_fen)


class CustomerOrder(Base):
    """One order, kept for its id (an order republished counts once) and for its refunds; a
    refund that arrives before its order leaves ``placed_at`` empty until then. The rules read
    the member's figures, not these rows."""

    __tablename__ = "customer_orders"

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    placed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class CustomerComplaint(Base):
    __tablename__ = "customer_complaints"

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Erasure(Base):
    """Only the id and when: events about the customer from before it are ignored, so a late
    or redelivered event cannot bring an erased customer back."""

    __tablename__ = "erasures"

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UtcDateTime())
