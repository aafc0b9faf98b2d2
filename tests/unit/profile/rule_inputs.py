"""Facts and evaluations for the profile unit tests, with an injected ``now``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from services.profile.rules import facts as f
from services.profile.rules.feature_functions import ProfileInputs
from services.profile.rules.features import feature_value, next_change
from services.profile.rules.tags import TagCatalogue, evaluate
from services.profile.settings import load_catalogue

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)


@cache
def catalogue() -> TagCatalogue:
    return load_catalogue()


def inputs(
    facts: f.CustomerFacts = f.CustomerFacts(),
    *,
    now: datetime = NOW,
    birthday: date | None = None,
    tier: str | None = None,
    registered_at: datetime | None = None,
    silenced_until: datetime | None = None,
    open_tickets: int = 0,
    consents: dict[str, bool] | None = None,
) -> ProfileInputs:
    return ProfileInputs(
        facts=facts,
        now=now,
        timezone=SHANGHAI,
        category_groups=catalogue().category_groups,
        registered_at=registered_at,
        birthday=birthday,
        tier=tier,
        silenced_until=silenced_until,
        open_tickets=open_tickets,
        consents=consents or {},
    )


def tags(facts: f.CustomerFacts = f.CustomerFacts(), **profile: object) -> frozenset[str]:
    """The catalogue's tags for these facts, as of ``now`` (default NOW)."""
    given = inputs(facts, **profile)  # type: ignore[arg-type]
    return evaluate(catalogue(), lambda name, days: feature_value(given, name, days))


def review_at(facts: f.CustomerFacts = f.CustomerFacts(), **profile: object) -> datetime | None:
    given = inputs(facts, **profile)  # type: ignore[arg-type]
    return next_change(given, catalogue().windows_by_source())


def views(category: str, *times: datetime, facts: f.CustomerFacts | None = None) -> f.CustomerFacts:
    result = facts or f.CustomerFacts()
    for at in times:
        result = f.with_view(result, category, at, NOW)
    return result


def order(
    order_id: str,
    at: datetime,
    amount: str,
    *,
    items: list[tuple[str, int, str]] | None = None,
    channel: str | None = "online",
) -> f.OrderFact:
    lines = [(category, quantity, Decimal(price)) for category, quantity, price in items or []]
    return f.order_fact(order_id, at, Decimal(amount), lines, channel)


def with_orders(*orders: f.OrderFact, facts: f.CustomerFacts | None = None) -> f.CustomerFacts:
    result = facts or f.CustomerFacts()
    for placed in orders:
        result = f.with_order(result, placed, now=NOW)
    return result


def with_refunds(facts: f.CustomerFacts, *refunds: tuple[str, datetime]) -> f.CustomerFacts:
    for order_id, at in refunds:
        refund = f.RefundFact(order_id, at, Decimal("100.00"), "size_mismatch")
        facts = f.with_refund(facts, refund, now=NOW)
    return facts


def ago(days: float = 0, **delta: float) -> datetime:
    return NOW - timedelta(days=days, **delta)
