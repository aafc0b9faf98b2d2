"""Tables of the loyalty service.

`ledger_entries` is the immutable, append-only record (the migration adds triggers refusing
UPDATE and DELETE). Every other table is derived state, written in the same transaction as
the entries that explain it and checkable against them (`queries.verify_ledger`).
Money is kept in fen (integer hundredths of a yuan): exact on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, new_metadata

# SQLite only auto-increments an INTEGER PRIMARY KEY; BigInteger elsewhere.
_Sequence = BigInteger().with_variant(Integer(), "sqlite")
_Id = String(128)
_Key = String(200)


class Base(DeclarativeBase):
    metadata = new_metadata()


class Account(Base):
    """A customer's points account: the totals of its ledger, tier and what earning needs."""

    __tablename__ = "accounts"

    customer_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0)
    debt: Mapped[int] = mapped_column(BigInteger, default=0)
    tier: Mapped[str] = mapped_column(String(16), default="bronze")
    orders_placed: Mapped[int] = mapped_column(Integer, default=0)
    birthday: Mapped[date | None] = mapped_column(Date)
    referrer_id: Mapped[str | None] = mapped_column(_Id)
    # First day of the business month whose tier review this account has had.
    tier_reviewed_month: Mapped[date] = mapped_column(Date, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LedgerEntryRow(Base):
    """One points decision, never changed nor deleted; it holds no personal data."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_entries_customer_seq", "customer_id", "seq"),)

    seq: Mapped[int] = mapped_column(_Sequence, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[str] = mapped_column(_Id)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    held_after: Mapped[int] = mapped_column(BigInteger)
    source_id: Mapped[str] = mapped_column(_Key)
    rule_version: Mapped[int] = mapped_column(Integer)
    business_time: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    order_id: Mapped[str | None] = mapped_column(_Id)
    hold_id: Mapped[str | None] = mapped_column(String(40))
    lot_id: Mapped[str | None] = mapped_column(_Key)
    lot_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    debt_repaid: Mapped[int] = mapped_column(BigInteger, default=0)
    allocations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")


class Lot(Base):
    """Points of one credit, spent oldest first and expiring `lot_lifetime_years` later."""

    __tablename__ = "lots"

    customer_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    lot_id: Mapped[str] = mapped_column(_Key, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    earned_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class Hold(Base):
    """Points over the daily cap awaiting review. `id` is public; `hold_key` is the rules'
    key, unique per customer. `points` is what is pending (or was, once resolved)."""

    __tablename__ = "holds"
    __table_args__ = (UniqueConstraint("customer_id", "hold_key"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(_Id, index=True)
    hold_key: Mapped[str] = mapped_column(_Key)
    points: Mapped[int] = mapped_column(BigInteger)
    original_points: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(_Key)
    order_id: Mapped[str | None] = mapped_column(_Id)
    rule_version: Mapped[int] = mapped_column(Integer)
    held_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(128))


class Order(Base):
    """What an order earned and what its refunds took back: what a refund of it needs. Read by
    key only, never as a customer's history."""

    __tablename__ = "orders"

    customer_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    order_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    placed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    points_awarded: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    points_clawed_back: Mapped[int] = mapped_column(BigInteger, default=0)
    last_refund_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OrderRefund(Base):
    """Each refund applied to an order, so a refund is never counted twice."""

    __tablename__ = "order_refunds"

    customer_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    order_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    source_id: Mapped[str] = mapped_column(_Key, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ClaimedReward(Base):
    """A once-only reward already given: a task on a day, a review of an order, a referral."""

    __tablename__ = "claimed_rewards"

    customer_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    reward_key: Mapped[str] = mapped_column(_Key, primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DailyEarning(Base):
    """Points credited (kind earn) per customer and business day, for the daily cap."""

    __tablename__ = "daily_earnings"

    customer_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    business_day: Mapped[date] = mapped_column(Date, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)


class MonthlySpend(Base):
    """Net spend (orders less their refunds) per customer and business month of the order,
    updated in place: the tier window sums at most `tier_window_months` of these."""

    __tablename__ = "monthly_spend"

    customer_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    business_month: Mapped[date] = mapped_column(Date, primary_key=True)
    net_spend_fen: Mapped[int] = mapped_column(BigInteger)


class Redemption(Base):
    """The answer given to one Idempotency-Key, replayed as is for a retry."""

    __tablename__ = "redemptions"

    customer_id: Mapped[str] = mapped_column(_Id, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(_Key, primary_key=True)
    redemption_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RulebookVersion(Base):
    """One published version of the rulebook; never changed once stored."""

    __tablename__ = "rule_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_by: Mapped[str] = mapped_column(String(128))
