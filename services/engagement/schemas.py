"""Request and response models of the engagement API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.engagement.rules.channels import Channel, Purpose
from shared.pagination import Page

CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TemplateName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]
ParamName = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _scalar(value: Any) -> Any:
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValueError("must be a string, number, boolean or null")
    if isinstance(value, str) and len(value) > 1000:
        raise ValueError("must be at most 1000 characters")
    return value


ParamValue = Annotated[Any, AfterValidator(_scalar)]
Params = Annotated[
    dict[ParamName, ParamValue],
    Field(max_length=50, description="template values: strings, numbers, booleans or null"),
]
Segment = Literal[
    "loyal", "potential", "new", "win_back", "at_risk", "dormant", "prospect", "regular"
]
MessageOutcome = Literal["sent", "suppressed", "pending"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MessageCreate(_Input):
    customer_id: CustomerId
    channel: Channel
    purpose: Purpose
    template: TemplateName
    params: Params | None = None


class MessagePublic(BaseModel):
    message_id: str
    customer_id: str
    channel: Channel
    purpose: Purpose
    template: str
    params: dict[str, ParamValue] | None = Field(description="null once the customer is erased")
    outcome: MessageOutcome = Field(
        description="sent; suppressed (see reason); pending: delivery is being retried"
    )
    reason: str | None = Field(
        description="no_consent, silenced, frequency_cap, no_contact, delivery_failed, "
        "customer_erased"
    )
    trigger: str = Field(description="api, campaign, complaint_follow_up, playbook, csat_coupon")
    campaign_id: str | None
    decided_at: datetime
    delivered_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None


class MessagePage(Page[MessagePublic]):
    """A customer's decisions, newest first."""


class SilencePublic(BaseModel):
    customer_id: str
    silenced: bool
    until: datetime | None = Field(description="end of the silence in force, else null")
    reason: str | None
    ticket_id: str | None


class CustomerPublic(BaseModel):
    """What engagement knows of a customer; contact data shows only as present or not."""

    customer_id: str
    consents: dict[str, bool]
    reachable_channels: list[Channel]
    tags: list[str]
    segment: str | None
    silence: SilencePublic
    erased: bool


class CampaignCreate(_Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    segment: Segment
    channel: Channel
    template: TemplateName
    purpose: Purpose = Purpose.MARKETING
    params: Params | None = None


class CampaignPublic(BaseModel):
    campaign_id: str
    name: str
    segment: str
    channel: Channel
    purpose: Purpose
    template: str
    params: dict[str, ParamValue] | None
    created_at: datetime
    last_dispatched_at: datetime | None
    dispatches: int


class DispatchResult(BaseModel):
    campaign_id: str
    members: int = Field(description="current members of the segment")
    already_dispatched: int = Field(description="members decided by an earlier dispatch")
    sent: int
    pending: int = Field(description="delivery failed and will be retried")
    suppressed: dict[str, int] = Field(description="suppressed members by reason")
