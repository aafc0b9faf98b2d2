"""Values for the loyalty rules tests: UTC instants, origins and accounts with fresh ids."""

from __future__ import annotations

from datetime import UTC, datetime

from services.loyalty.rules.account import PointsAccount
from services.loyalty.rules.book import Origin
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK, Rulebook
from tests.support.builders import new_id


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def origin_at(at: datetime, rulebook: Rulebook = DEFAULT_RULEBOOK) -> Origin:
    return Origin(new_id("src"), at, rulebook)


def new_account(**fields: object) -> PointsAccount:
    return PointsAccount(customer_id=new_id("cust"), **fields)  # type: ignore[arg-type]
