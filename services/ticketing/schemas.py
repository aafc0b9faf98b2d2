"""Request and response models of the ticketing API. Requests forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shared.events.catalogue import RefundReason
from shared.pagination import Page

CustomerTicketKind = Literal["inquiry", "complaint", "return", "repair"]
TicketKindName = Literal["inquiry", "complaint", "return", "repair", "callback"]
Category = Literal["logistics", "quality", "size", "payment", "installation", "service", "other"]
PriorityName = Literal["P1", "P2", "P3", "P4"]
TierName = Literal["bronze", "silver", "gold", "platinum"]
StatusName = Literal["open", "resolved"]
# Customer ids come from storefront events and are taken as they are there.
CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
# Ids this service accepts for its own resources (agents) also appear in paths.
Id = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketCreate(Request):
    customer_id: CustomerId
    kind: CustomerTicketKind
    category: Category
    subject: Annotated[Text, StringConstraints(max_length=200)]
    description: Annotated[Text, StringConstraints(max_length=5000)] | None = None
    opened_at: AwareDatetime | None = Field(
        default=None, description="For imports; defaults to now. Never in the future."
    )


class ResponseCreate(Request):
    agent_id: Id | None = None
    body: Annotated[Text, StringConstraints(max_length=10_000)]


class TicketResolve(Request):
    csat: int | None = Field(default=None, ge=1, le=5)


class AgentCreate(Request):
    agent_id: Id | None = None
    name: Annotated[Text, StringConstraints(max_length=200)]
    skills: list[Category] = Field(default_factory=list, max_length=7)
    senior: bool = False
    active: bool = True


class AgentUpdate(Request):
    """Only the fields given change; null is not a value for any of them."""

    name: Annotated[Text, StringConstraints(max_length=200)] | None = None
    skills: list[Category] | None = Field(default=None, max_length=7)
    senior: bool | None = None
    active: bool | None = None

    @field_validator("name", "skills", "senior", "active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null; leave the field out to keep it")
        return value


class PriorityChangePublic(BaseModel):
    reason: str
    tier: TierName
    old_priority: PriorityName
    new_priority: PriorityName
    old_response_due_at: datetime
    new_response_due_at: datetime
    at: datetime


class TicketPublic(BaseModel):
    id: str
    customer_id: str
    kind: TicketKindName
    category: Category
    subject: str | None = Field(description="null once the customer has been erased")
    description: str | None
    status: StatusName
    opened_at: datetime
    priority: PriorityName
    tier: TierName = Field(description="the customer's tier as known when last prioritised")
    response_due_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    csat: int | None
    assignee: str | None
    sla_breached_at: datetime | None
    follow_up_of: str | None = Field(description="for a callback: the complaint's ticket id")
    erased: bool
    history: list[PriorityChangePublic]


class TicketPage(Page[TicketPublic]):
    """A cursor page of tickets; `total` counts every ticket the filters match."""

    total: int
    limit: int


class ResponsePublic(BaseModel):
    id: str
    ticket_id: str
    agent_id: str | None
    body: str | None
    responded_at: datetime
    first_response: bool


class AgentPublic(BaseModel):
    agent_id: str
    name: str
    skills: list[Category]
    senior: bool
    active: bool
    open_tickets: int


class SlaPolicyPublic(BaseModel):
    version: int = Field(description="0 for the built-in defaults")
    effective_at: datetime | None
    changed_by: str | None
    first_response_hours: dict[TierName, float]
    complaint_priority: dict[TierName, PriorityName]
    other_priority: PriorityName


class CustomerTierPublic(BaseModel):
    customer_id: str
    tier: TierName
    known: bool = Field(description="false: no tier.changed seen yet, so bronze")
    changed_at: datetime | None


class ReturnReasonCount(BaseModel):
    reason: RefundReason
    refunds: int
    amount: Decimal = Field(description="yuan refunded for this reason")
    share: float = Field(description="fraction of all refunds in the window")


class ReturnReasonReport(BaseModel):
    since: datetime | None
    until: datetime | None
    total_refunds: int
    total_amount: Decimal
    reasons: list[ReturnReasonCount]
