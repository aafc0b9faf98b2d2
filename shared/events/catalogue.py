"""Every event of DESIGN.md §2, one pydantic model per ``data``, and the registry type -> model.

Consumed payloads ignore unknown fields: within a type, contracts only ever grow.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, create_model

Tier = Literal["bronze", "silver", "gold", "platinum"]
Channel = Literal["email", "sms", "push", "wecom", "in_app"]
TicketKind = Literal["inquiry", "complaint", "return", "repair"]
TicketCategory = Literal[
    "logistics", "quality", "size", "payment", "installation", "service", "other"
]
RefundReason = Literal[
    "size_mismatch",
    "quality_defect",
    "logistics_damage",
    "not_as_described",
    "changed_mind",
    "other",
]
Priority = Literal["P1", "P2", "P3", "P4"]
Yuan = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Id = Annotated[str, Field(min_length=1, max_length=128)]
# Personal fields as long as the columns that keep them (a test compares them): a longer value
# is an invalid event, dead-lettered as such on every database, not a write error.
Name = Annotated[str, Field(max_length=200)]
Email = Annotated[str, Field(max_length=320)]
Phone = Annotated[str, Field(max_length=40)]


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CustomerEventData(EventData):
    customer_id: Id


class Consents(EventData):
    email: bool = False
    sms: bool = False
    push: bool = False
    wecom: bool = False


# --- inbound: what a storefront emits -------------------------------------------------------


class CustomerRegistered(CustomerEventData):
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    birthday: date | None = None
    referrer_id: Id | None = None
    consents: Consents | None = None


class CustomerUpdated(CustomerEventData):
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    birthday: date | None = None
    referrer_id: Id | None = None
    consents: Consents | None = None


class OrderItem(EventData):
    sku: Id
    category: str
    quantity: int = Field(ge=1)
    unit_price: Yuan


class OrderPlaced(CustomerEventData):
    order_id: Id
    amount: Yuan
    currency: Literal["CNY"] = "CNY"
    items: list[OrderItem] = Field(default_factory=list)
    channel: Literal["online", "store"] | None = None


class OrderRefunded(CustomerEventData):
    order_id: Id
    amount: Yuan
    reason: RefundReason


class ProductViewed(CustomerEventData):
    sku: Id
    category: str
    duration_s: float | None = Field(default=None, ge=0)


class ReviewPosted(CustomerEventData):
    order_id: Id
    rating: int = Field(ge=1, le=5)


# --- published by the services --------------------------------------------------------------


class ProfileTagged(CustomerEventData):
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list, description="every tag the customer now has")
    behaviour_tags: list[str] | None = Field(
        default=None,
        description="the subset of tags in the catalogue's behaviour group (absent from older "
        "events)",
    )


class CustomerErased(CustomerEventData):
    erased_at: AwareDatetime


class SegmentChanged(CustomerEventData):
    old_segment: str | None
    new_segment: str
    rfm: dict[str, Any] = Field(description="recency_days, frequency, monetary")


class ChurnRiskDetected(CustomerEventData):
    reason: str
    monthly_spend: list[Decimal] = Field(default_factory=list)
    months: list[date] = Field(
        default_factory=list, description="first day of each month of monthly_spend, oldest first"
    )


class SilenceStarted(CustomerEventData):
    until: AwareDatetime
    reason: str
    ticket_id: str | None = None


class MessageSent(CustomerEventData):
    message_id: Id
    channel: Channel
    purpose: Literal["marketing", "service"]
    template: str
    campaign_id: str | None = None


class MessageSuppressed(CustomerEventData):
    message_id: Id
    channel: Channel
    purpose: Literal["marketing", "service"]
    template: str
    reason: str
    campaign_id: str | None = None


class TicketOpened(CustomerEventData):
    ticket_id: Id
    kind: TicketKind
    category: TicketCategory
    priority: Priority
    tier: Tier
    opened_at: AwareDatetime
    response_due_at: AwareDatetime


class ComplaintOpened(CustomerEventData):
    ticket_id: Id
    category: TicketCategory
    opened_at: AwareDatetime
    subject: str | None = None


class TicketPrioritized(CustomerEventData):
    ticket_id: Id
    old_priority: Priority
    new_priority: Priority
    old_response_due_at: AwareDatetime | None = None
    response_due_at: AwareDatetime
    tier: Tier
    reason: str


class TicketResolved(CustomerEventData):
    ticket_id: Id
    kind: TicketKind
    category: TicketCategory
    resolved_at: AwareDatetime
    csat: int | None = Field(default=None, ge=1, le=5)


class SlaBreached(CustomerEventData):
    ticket_id: Id
    tier: Tier
    priority: Priority
    response_due_at: AwareDatetime
    breached_at: AwareDatetime


class PointsEarned(CustomerEventData):
    points: int
    reason: str
    source_id: str
    rule_version: int
    expires_at: datetime | None = None
    balance: int


class PointsRedeemed(CustomerEventData):
    points: int = Field(gt=0)
    redemption_id: Id
    coupon_value: Yuan
    balance: int


class PointsExpired(CustomerEventData):
    points: int = Field(gt=0)
    balance: int


class PointsHeld(CustomerEventData):
    points: int = Field(gt=0)
    source_id: str
    business_day: date
    reason: str = "daily_cap"


class TierChanged(CustomerEventData):
    old_tier: Tier
    new_tier: Tier
    net_spend_12m: Yuan
    reason: Literal["upgrade", "downgrade_review"]


CATALOGUE: dict[str, type[EventData]] = {
    "customer.registered": CustomerRegistered,
    "customer.updated": CustomerUpdated,
    "order.placed": OrderPlaced,
    "order.refunded": OrderRefunded,
    "product.viewed": ProductViewed,
    "review.posted": ReviewPosted,
    "profile.tagged": ProfileTagged,
    "customer.erased": CustomerErased,
    "segment.changed": SegmentChanged,
    "churn_risk.detected": ChurnRiskDetected,
    "silence.started": SilenceStarted,
    "message.sent": MessageSent,
    "message.suppressed": MessageSuppressed,
    "ticket.opened": TicketOpened,
    "complaint.opened": ComplaintOpened,
    "ticket.prioritized": TicketPrioritized,
    "ticket.resolved": TicketResolved,
    "sla.breached": SlaBreached,
    "points.earned": PointsEarned,
    "points.redeemed": PointsRedeemed,
    "points.expired": PointsExpired,
    "points.held": PointsHeld,
    "tier.changed": TierChanged,
}

TOPICS: tuple[str, ...] = tuple(CATALOGUE)
INBOUND_TYPES: tuple[str, ...] = (
    "customer.registered",
    "customer.updated",
    "order.placed",
    "order.refunded",
    "product.viewed",
    "review.posted",
)
"""What a storefront emits (DESIGN §2); the rest are published by the services."""
DLQ_SUFFIX = ".dlq"


def data_model_for(event_type: str) -> type[EventData]:
    """The ``data`` model of an event type; KeyError for a type the catalogue doesn't know."""
    return CATALOGUE[event_type]


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


_TYPE_OF_MODEL: dict[type[EventData], str] = {model: name for name, model in CATALOGUE.items()}


def event_type_of(model: type[EventData]) -> str:
    """The catalogue type a ``data`` model travels as; KeyError for a model not in it."""
    return _TYPE_OF_MODEL[model]


M = TypeVar("M", bound=EventData)
_READERS: dict[tuple[type[EventData], frozenset[str]], type[EventData]] = {}


def reading(model: type[M], *fields: str) -> type[M]:
    """A consumer's view of ``model``, for ``Subscriptions.on``: the ``fields`` it reads
    stay as the catalogue declares them, every other required field may be missing (None).
    So an event without a field this consumer does not use is handled, not dead-lettered
    (a tolerant reader); a field it reads, missing or invalid, still makes the event
    invalid. It travels as ``model``'s type."""
    unknown = set(fields) - set(model.model_fields)
    if unknown:
        raise ValueError(f"{model.__name__} has no field {sorted(unknown)}")
    key = (model, frozenset(fields))
    if key not in _READERS:
        kept = set(fields) | set(CustomerEventData.model_fields)
        optional: dict[str, Any] = {
            name: (_with_constraints(info.annotation, info.metadata) | None, None)
            for name, info in model.model_fields.items()
            if name not in kept and info.is_required()
        }
        reader = create_model(f"{model.__name__}AsRead", __base__=model, **optional)
        _TYPE_OF_MODEL[reader] = _TYPE_OF_MODEL[model]
        _READERS[key] = reader
    return _READERS[key]  # type: ignore[return-value]


def _with_constraints(annotation: Any, metadata: list[Any]) -> Any:
    return Annotated[(annotation, *metadata)] if metadata else annotation
