"""Tables of the profile service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
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


class CustomerFeatures(Base):
    """A customer's compact event facts (services/profile/facts.py), as one JSON document."""

    __tablename__ = "customer_features"

    customer_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("customers.customer_id", ondelete="CASCADE"), primary_key=True
    )
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


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
