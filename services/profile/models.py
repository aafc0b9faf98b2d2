"""Tables of the profile service."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Customer(Base):
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
