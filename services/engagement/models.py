"""Tables of the engagement service: the customer read model, every decision, campaigns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, new_metadata

# SQLite only auto-increments an INTEGER PRIMARY KEY; BigInteger elsewhere.
_Sequence = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


class Customer(Base):
    """What engagement has learned of a customer from events; contact data is erasable."""

    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    consents: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    # Business time of the event that last set each field ("email", "consent.sms", ...), so an
    # event arriving late never overwrites a newer one.
    field_times: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    segment: Mapped[str | None] = mapped_column(String(64), index=True)
    segment_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Business time of the entry into each segment that last ran its playbook ({segment: ISO
    # time}): a customer flapping in and out runs a playbook once per repeat window.
    playbook_entries: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    silenced_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    silence_reason: Mapped[str | None] = mapped_column(String(64))
    silence_ticket_id: Mapped[str | None] = mapped_column(String(128))
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Message(Base):
    """One decision of the pipeline: sent, suppressed (with its reason) or pending delivery."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_customer_decided", "customer_id", "decided_at"),
        Index("ix_messages_outcome_next_attempt", "outcome", "next_attempt_at"),
    )

    seq: Mapped[int] = mapped_column(_Sequence, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    trigger: Mapped[str] = mapped_column(String(32))
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # What makes a second request the same message: an Idempotency-Key, a ticket, a campaign
    # member. Unique, so a redelivered trigger never sends twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(64))


class Campaign(Base):
    __tablename__ = "campaigns"

    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    dispatches: Mapped[int] = mapped_column(Integer, default=0)
