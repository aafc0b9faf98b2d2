"""Builders for loyalty unit tests: UTC instants, origins and fresh ids per test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.loyalty.domain import DEFAULT_RULES, LoyaltyRules, Origin, PointsAccount


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def origin_at(at: datetime, rules: LoyaltyRules = DEFAULT_RULES) -> Origin:
    return Origin(new_id("src"), at, rules)


def new_account(**fields: object) -> PointsAccount:
    return PointsAccount(customer_id=new_id("cust"), **fields)  # type: ignore[arg-type]
