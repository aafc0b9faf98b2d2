"""Tables of the segmentation service. Money is kept in fen (integer hundredths of a yuan)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, new_metadata
from shared.money import to_yuan


class Base(DeclarativeBase):
    metadata = new_metadata()


class SegmentMember(Base):
    """A customer's current segment, the features it was decided on, and what it learned."""

    __tablename__ = "segment_members"
    __table_args__ = (
        Index("ix_segment_members_segment_customer", "segment", "customer_id"),
        Index("ix_segment_members_review_at", "review_at"),
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

    @property
    def monetary(self) -> Decimal:
        return to_yuan(self.monetary_fen)


class CustomerOrder(Base):
    """One order; a refund that arrives before its order leaves ``placed_at`` empty until then."""

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
