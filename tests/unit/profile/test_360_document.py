"""The stored 360 holds its times and dates as ISO 8601 text, exactly as ``isoformat()``
writes them, whichever way the document is encoded: PostgreSQL's one-document writes
(``bulk``) or a JSON column's own encoder (SQLite)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.profile.repository.documents import customer_360
from services.profile.rules.customer import CustomerProfile
from services.profile.rules.summary import Activity
from shared import bulk
from shared.db import json_text

WITH_MICROS = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC)
WHOLE_SECOND = datetime(2026, 12, 7, 9, 30, 15, tzinfo=UTC)
SHANGHAI_TIME = datetime(2026, 12, 7, 17, 30, tzinfo=timezone(timedelta(hours=8)))


def _document() -> dict:
    profile = CustomerProfile(
        customer_id="c-1",
        updated_at=WITH_MICROS,
        birthday=date(1990, 2, 28),
        registered_at=WHOLE_SECOND,
        tier="gold",
        tier_since=SHANGHAI_TIME,
        silenced_until=WITH_MICROS + timedelta(days=30),
        silence_reason="complaint",
        tags_as_of=WITH_MICROS,
    )
    activity = Activity(
        as_of=WITH_MICROS,
        lifetime_orders=2,
        lifetime_spend=Decimal("10.50"),
        last_order_at=WHOLE_SECOND,
        last_seen_at=None,
        orders_365d=2,
        spend_365d=Decimal("10.50"),
        avg_order_value_365d=Decimal("5.25"),
        refunds_90d=0,
        views_30d=0,
        inquiries_30d=0,
        complaints_365d=0,
        avg_rating_365d=None,
    )
    return customer_360(profile, {"vip", "new"}, activity)


@pytest.mark.parametrize(
    "encode", [lambda doc: bulk.document([doc])[1:-1], json_text], ids=["bulk", "column"]
)
def test_times_and_dates_are_stored_as_isoformat_writes_them(encode) -> None:
    stored = json.loads(encode(_document()))
    assert stored["updated_at"] == WITH_MICROS.isoformat() == "2026-12-07T09:30:15.123456+00:00"
    assert stored["registered_at"] == WHOLE_SECOND.isoformat() == "2026-12-07T09:30:15+00:00"
    assert stored["tier_since"] == SHANGHAI_TIME.isoformat() == "2026-12-07T17:30:00+08:00"
    assert stored["birthday"] == "1990-02-28"
    assert stored["silence"]["until"] == (WITH_MICROS + timedelta(days=30)).isoformat()
    assert stored["activity"]["as_of"] == WITH_MICROS.isoformat()
    assert stored["activity"]["last_order_at"] == WHOLE_SECOND.isoformat()
    assert stored["activity"]["last_seen_at"] is None and stored["erased_at"] is None
    assert stored["activity"]["lifetime_spend"] == "10.50" and stored["tags"] == ["new", "vip"]


def test_a_json_column_keeps_the_standard_librarys_keys_and_refuses_what_it_refuses() -> None:
    assert json.loads(json_text({1: "a", "b": [1, 2.5, None]})) == {"1": "a", "b": [1, 2.5, None]}
    with pytest.raises(TypeError):
        json_text({"amount": Decimal("1.00")})
