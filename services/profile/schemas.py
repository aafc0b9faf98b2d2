"""Response models of the profile API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.pagination import Page


class SilencePublic(BaseModel):
    silenced: bool = Field(description="in a marketing silence now (the service's clock)")
    until: datetime | None = Field(description="the furthest silence end learned from events")
    reason: str | None


class ActivityPublic(BaseModel):
    as_of: datetime = Field(
        description="the business moment the values below hold at: the customer's last "
        "evaluation (the 360 is kept up to date by the handlers and the tag sweep)"
    )
    lifetime_orders: int
    lifetime_spend: Decimal = Field(description="yuan")
    last_order_at: datetime | None
    last_seen_at: datetime | None = Field(
        default=None,
        description="the latest business time of a view, order, refund, review, "
        "ticket or complaint",
    )
    orders_365d: int
    spend_365d: Decimal = Field(description="yuan")
    avg_order_value_365d: Decimal | None = Field(description="yuan; null without orders")
    refunds_90d: int
    views_30d: int
    inquiries_30d: int
    complaints_365d: int
    avg_rating_365d: Decimal | None


class CustomerPublic(BaseModel):
    """The customer 360."""

    customer_id: str
    name: str | None
    email: str | None
    phone: str | None
    birthday: date | None
    referrer_id: str | None
    consents: dict[str, bool]
    registered_at: datetime | None
    updated_at: datetime
    open_tickets: int = Field(description="open tickets, from ticket.opened / ticket.resolved")
    erased: bool
    erased_at: datetime | None
    tags: list[str]
    tags_as_of: datetime | None = Field(description="the business moment tags were evaluated at")
    tier: str | None = Field(description="latest tier from tier.changed; null if none seen")
    tier_since: datetime | None
    segment: str | None = Field(description="latest segment from segment.changed")
    segment_since: datetime | None
    silence: SilencePublic
    activity: ActivityPublic


class CustomerSummary(BaseModel):
    """A customer in a listing: no personal data (read the 360 for that)."""

    customer_id: str
    tags: list[str]
    tier: str | None
    segment: str | None
    erased: bool
    tagged_since: datetime | None = Field(
        description="since when the customer has the tag asked for (null without ?tag=)"
    )


class CustomerPage(Page[CustomerSummary]):
    tag: str | None = Field(description="the tag asked for (null without ?tag=)")


class TagPublic(BaseModel):
    name: str
    description: str
    group: str
    rule: dict[str, Any] = Field(
        description="{feature, operator, threshold, window_days} or any/all"
    )
    categories: dict[str, list[str]] = Field(
        description="the category groups the rule refers to, with their categories"
    )
    member_count: int


class IngestedEvent(BaseModel):
    """One event of a ``POST /v1/events``, in request order."""

    index: int = Field(description="its place in the request (0 for a single event)")
    id: str | None = Field(description="its id, as far as it could be read")
    type: str | None = Field(description="its type, as far as it could be read")
    status: Literal["accepted", "rejected"]
    reason: str | None = Field(
        default=None,
        description="why it was rejected: bad_json, invalid_envelope, unknown_type, invalid_data",
    )
    field: str | None = Field(default=None, description="the attribute or data field at fault")
    message: str | None = None


class IngestionAnswer(BaseModel):
    accepted: int
    rejected: int
    events: list[IngestedEvent]
