"""Response models of the segmentation API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class CustomerSegmentPublic(BaseModel):
    customer_id: str
    segment: str
    recency_days: int | None = Field(description="whole days since the last order; null if none")
    frequency: int = Field(description="orders in the window, fully refunded ones excluded")
    monetary: Decimal = Field(description="net spend in the window, yuan")
    since: datetime = Field(description="when the customer entered this segment")
    evaluated_at: datetime = Field(description="the moment the values above were computed for")


class SegmentPublic(BaseModel):
    name: str
    definition: str
    conditions: list[str]
    precedence: int = Field(description="1 is evaluated first; the first match wins")
    member_count: int


class SegmentMemberPublic(BaseModel):
    customer_id: str
    since: datetime
    recency_days: int | None
    frequency: int
    monetary: Decimal


class SegmentMembersPage(BaseModel):
    """A cursor page (``shared.pagination``) of a segment's members, in customer-id order."""

    segment: str
    items: list[SegmentMemberPublic]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null at end")
