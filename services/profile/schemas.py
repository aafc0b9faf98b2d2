"""Request and response models of the profile API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class CustomerPublic(BaseModel):
    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    birthday: date | None
    referrer_id: str | None
    consents: dict[str, bool]
    registered_at: datetime | None
    updated_at: datetime
    open_tickets: int
    erased: bool
