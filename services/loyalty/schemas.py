"""Request and response models of the loyalty API. Money is a decimal string in yuan."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from services.loyalty.rules.rulebook import Rulebook
from shared.pagination import Page

Tier = Literal["bronze", "silver", "gold", "platinum"]
HoldStatus = Literal["pending", "released", "cancelled", "refunded"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedemptionCreate(_Input):
    points: int = Field(
        gt=0, description="A multiple of the rulebook's points_per_coupon_yuan (100 = 1 yuan)."
    )


class RedemptionPublic(BaseModel):
    redemption_id: str
    customer_id: str
    points: int
    coupon_value: Decimal = Field(description="Yuan of coupon the points bought.")
    balance: int
    available: int
    redeemed_at: datetime
    rule_version: int


class TaskClaimCreate(_Input):
    task: Literal["check_in", "share"]


class TaskClaimPublic(BaseModel):
    customer_id: str
    task: str
    business_day: date
    points: int = Field(description="The reward; credited + held.")
    credited: int
    held: int = Field(description="Points over the daily cap, held for review.")
    balance: int
    rule_version: int


class TierProgressPublic(BaseModel):
    net_spend_12m: Decimal
    next_tier: Tier | None
    spend_to_next: Decimal


class ExpiringPoints(BaseModel):
    points: int
    expires_at: datetime


class PointsPublic(BaseModel):
    customer_id: str
    balance: int = Field(description="Sum of the ledger; negative while refunds left a debt.")
    held: int = Field(description="Points over the daily cap awaiting review.")
    available: int = Field(description="What a redemption may take now.")
    debt: int
    tier: Tier
    tier_progress: TierProgressPublic
    expiring_30d: list[ExpiringPoints]
    expiring_30d_total: int
    expiring_window_days: int
    as_of: datetime


class LotAllocationPublic(BaseModel):
    lot_id: str
    points: int


class LedgerEntryPublic(BaseModel):
    entry_id: str
    kind: str
    reason: str
    points: int
    balance_after: int
    held_after: int
    source_id: str
    rule_version: int
    business_time: datetime
    recorded_at: datetime
    order_id: str | None
    hold_id: str | None
    lot_expires_at: datetime | None
    debt_repaid: int
    allocations: list[LotAllocationPublic]
    note: str


class LedgerPage(Page[LedgerEntryPublic]):
    """Entries newest first; `next_cursor` leads to older ones."""

    customer_id: str


class LedgerCheckPublic(BaseModel):
    customer_id: str
    consistent: bool
    balance: int
    balance_from_ledger: int
    held: int
    held_from_ledger: int
    pending_holds: int
    debt: int
    lots_remaining: int
    tier: Tier


class HoldPublic(BaseModel):
    hold_id: str
    customer_id: str
    points: int
    original_points: int
    reason: str
    source_id: str
    order_id: str | None
    rule_version: int
    held_at: datetime
    status: HoldStatus
    resolved_at: datetime | None
    resolved_by: str | None


class HoldPage(Page[HoldPublic]):
    """Holds oldest held first."""

    total: int = Field(description="Holds of the status (and customer) asked for, every page.")


class RulebookPublic(BaseModel):
    version: int
    published_at: datetime
    published_by: str
    rules: dict[str, Any]


def _rulebook_update_model() -> type[BaseModel]:
    """Every field of `Rulebook`, each optional: a partial document changes only those."""
    fields: dict[str, Any] = {
        field.name: (type(field.default), Field(default=None))
        for field in dataclasses.fields(Rulebook)
    }
    return create_model(  # type: ignore[call-overload, no-any-return]
        "RulebookUpdate", __config__=ConfigDict(extra="forbid"), **fields
    )


RulebookUpdate = _rulebook_update_model()
RULEBOOK_FIELDS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(Rulebook))
