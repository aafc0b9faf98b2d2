"""Tables of the profile service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Customer(Base):
    """The customer 360: profile and consents, and what other services said about them."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    birthday: Mapped[date | None] = mapped_column(Date)
    referrer_id: Mapped[str | None] = mapped_column(String(128))
    consents: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    registered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    open_tickets: Mapped[int] = mapped_column(Integer, default=0)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Latest tier, segment and silence, each as of the business time of the event that said so.
    tier: Mapped[str | None] = mapped_column(String(20))
    tier_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    segment: Mapped[str | None] = mapped_column(String(64))
    segment_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    silenced_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    silence_reason: Mapped[str | None] = mapped_column(String(64))
    # Tags were last evaluated as of tags_as_of; time alone may change them at tags_review_at.
    tags_as_of: Mapped[datetime | None] = mapped_column(UtcDateTime())
    tags_review_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    # The fingerprint of the tag catalogue the tags were evaluated with.
    tags_catalogue: Mapped[str | None] = mapped_column(String(32))
    # The customer's facts as figures per day (repository/facts.py); None: no facts yet.
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The tag names the customer has now (customer_tags holds them with their since, by tag).
    tags: Mapped[list[str] | None] = mapped_column(JSON)
    # The read model of GET /v1/customers/{id}, rewritten with every change of the customer
    # (repository/documents.py); None only for a customer not written since migration 0003.
    customer_360: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CustomerTag(Base):
    """One tag a customer has now, since the evaluation that added it."""

    __tablename__ = "customer_tags"
    __table_args__ = (Index("ix_customer_tags_tag_customer", "tag", "customer_id"),)

    customer_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("customers.customer_id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(UtcDateTime())


class TicketState(Base):
    """Whether a ticket is open, so the open-ticket count survives events out of order: a
    ticket.resolved handled before its ticket.opened leaves a resolved row that the opening
    then finds."""

    __tablename__ = "ticket_states"

    ticket_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When a complaint about the ticket was counted (a complaint counts once per ticket).
    complained_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CustomerOrder(Base):
    """An order known by its id: the same order announced twice counts once, and a refund
    marks its order refunded in the day the order was placed (refund_rate). A refund that
    arrives before its order leaves a row without ``placed_at``."""

    __tablename__ = "customer_orders"

    order_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    placed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    refunded: Mapped[bool] = mapped_column(Boolean, default=False)
