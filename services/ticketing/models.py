"""Tables of the ticketing service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import UtcDateTime, new_metadata

# SQLite only auto-increments an INTEGER PRIMARY KEY; BigInteger elsewhere.
_Sequence = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


class Agent(Base):
    __tablename__ = "agents"

    agent_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    senior: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Open tickets assigned to the agent, kept by every write that assigns, moves or
    # resolves one: dispatch reads loads here instead of counting tickets.
    open_tickets: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


# Partial indexes over open tickets; a query uses one when it spells the same condition with
# literals (`status = 'open'`), not bound parameters.
OPEN = "status = 'open'"
AWAITING_FIRST_RESPONSE = (
    "status = 'open' AND first_response_at IS NULL AND sla_breached_at IS NULL"
)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # A customer's tickets (all, or open ones): the ticket list, the runs' open tickets.
        Index("ix_tickets_customer_status", "customer_id", "status"),
        # The queue in work order (`rules.queue.queue_key`), over open tickets only.
        Index(
            "ix_tickets_open_work_order",
            "priority",
            "response_due_at",
            "opened_at",
            "id",
            sqlite_where=text(OPEN),
            postgresql_where=text(OPEN),
        ),
        # What the breach scan looks for, earliest due first.
        Index(
            "ix_tickets_awaiting_first_response",
            "response_due_at",
            "id",
            sqlite_where=text(AWAITING_FIRST_RESPONSE),
            postgresql_where=text(AWAITING_FIRST_RESPONSE),
        ),
        # An agent's open tickets: their queue.
        Index(
            "ix_tickets_open_assignee",
            "assignee_id",
            sqlite_where=text(OPEN),
            postgresql_where=text(OPEN),
        ),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(2))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    response_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sla_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    csat: Mapped[int | None] = mapped_column(Integer)
    assignee_id: Mapped[str | None] = mapped_column(
        String(128), ForeignKey("agents.agent_id"), index=True
    )
    # For a callback: the complaint it follows up. Unique, so one callback per complaint.
    follow_up_of: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    history: Mapped[list[PriorityChange]] = relationship(
        order_by="PriorityChange.seq", lazy="selectin", cascade="all, delete-orphan"
    )


IS_OPEN = Ticket.status == literal_column("'open'")
"""`OPEN` as a query condition: literal, so the partial indexes serve it."""


class PriorityChange(Base):
    """One entry of a ticket's priority history (a `rules.Change` that was applied)."""

    __tablename__ = "priority_changes"

    seq: Mapped[int] = mapped_column(_Sequence, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(64), ForeignKey("tickets.id"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(16))
    old_priority: Mapped[str] = mapped_column(String(2))
    new_priority: Mapped[str] = mapped_column(String(2))
    old_response_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    new_response_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TicketResponse(Base):
    __tablename__ = "ticket_responses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(64), ForeignKey("tickets.id"), index=True)
    agent_id: Mapped[str | None] = mapped_column(String(128))
    body: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CustomerTier(Base):
    """The tier read model, learned from tier.changed; `changed_at` is that event's time."""

    __tablename__ = "customer_tiers"

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SlaPolicyVersion(Base):
    """Every SLA policy ever put in force; the highest version is the current one."""

    __tablename__ = "sla_policies"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_by: Mapped[str] = mapped_column(String(128))


class Refund(Base):
    """One order.refunded, kept for the return-reason report. Money in fen (exact)."""

    __tablename__ = "refunds"

    seq: Mapped[int] = mapped_column(_Sequence, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(128), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
