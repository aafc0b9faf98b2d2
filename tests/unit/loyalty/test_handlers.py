"""Loyalty's handlers on a throwaway SQLite database: state, ledger and outbox rows, no broker."""

from __future__ import annotations

import importlib.util
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.loyalty.domain import DEFAULT_RULES
from services.loyalty.handlers import event_handlers
from services.loyalty.handlers.queries import points_view, verify_ledger
from services.loyalty.handlers.redemptions import redeem_points
from services.loyalty.handlers.rules import fields_named, publish_rule_version
from services.loyalty.models import Base, Hold, Order
from services.loyalty.rule_store import initial_rule_version, rules_in_force
from shared.clock import FixedClock
from shared.db import create_engine, create_session_factory
from shared.errors import Conflict
from shared.events.catalogue import data_model_for
from shared.events.envelope import CloudEvent, TypedEvent
from shared.tables import kit_metadata, outbox

T0 = datetime(2025, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
MIGRATION = Path(__file__).parents[3] / "services/loyalty/migrations/versions/0001_initial.py"

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'loyalty.db'}")
    async with engine.begin() as connection:
        for metadata in (Base.metadata, kit_metadata):
            await connection.run_sync(metadata.create_all)
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        session.add(initial_rule_version(T0))
    yield factory
    await engine.dispose()


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def event(event_type: str, data: dict[str, Any], time: datetime) -> TypedEvent:
    envelope = CloudEvent(
        id=str(uuid.uuid4()),
        source="storefront",
        type=event_type,
        time=time,
        subject=data["customer_id"],
        data=data,
    )
    model = data_model_for(event_type)
    return TypedEvent[model](envelope=envelope, data=model.model_validate(data))  # type: ignore[valid-type]


def order(customer_id: str, order_id: str, amount: str, at: datetime = T0) -> TypedEvent:
    data = {"customer_id": customer_id, "order_id": order_id, "amount": amount}
    return event("order.placed", data, at)


def refund(customer_id: str, order_id: str, amount: str, at: datetime = T0) -> TypedEvent:
    data = {"customer_id": customer_id, "order_id": order_id, "amount": amount, "reason": "other"}
    return event("order.refunded", data, at)


async def handle(sessions: Sessions, *events: TypedEvent, now: datetime = T0) -> None:
    handlers = event_handlers(FixedClock(now))
    for typed in events:
        async with sessions() as session, session.begin():
            await handlers[typed.type](session, typed)


async def balance_of(sessions: Sessions, customer_id: str, now: datetime = T0) -> int:
    async with sessions() as session, session.begin():
        return (await points_view(session, customer_id, now)).account.balance


async def outboxed(sessions: Sessions, topic: str) -> list[dict[str, Any]]:
    async with sessions() as session, session.begin():
        rows = await session.execute(select(outbox.c.payload).where(outbox.c.topic == topic))
        return [json.loads(payload)["data"] for (payload,) in rows]


async def assert_consistent(sessions: Sessions, customer_id: str) -> None:
    async with sessions() as session, session.begin():
        check = await verify_ledger(session, customer_id)
    assert check.consistent, check


def test_the_first_migration_stores_the_default_rules_as_version_1() -> None:
    spec = importlib.util.spec_from_file_location("loyalty_0001", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    assert DEFAULT_RULES.to_dict() == migration.INITIAL_RULES


async def test_an_order_over_the_cap_writes_the_earn_the_hold_and_the_tier_change(sessions):
    customer_id = new_id("c")

    await handle(sessions, order(customer_id, new_id("o"), "12000.00"))

    [earned] = await outboxed(sessions, "points.earned")
    [held] = await outboxed(sessions, "points.held")
    [tier] = await outboxed(sessions, "tier.changed")
    assert (earned["points"], earned["balance"], earned["reason"]) == (5000, 5000, "order")
    assert earned["expires_at"].startswith("2028-03-10T04:00:00")
    assert (held["points"], held["business_day"]) == (24000 - 5000, "2025-03-10")
    assert (tier["old_tier"], tier["new_tier"], tier["net_spend_12m"]) == (
        "bronze",
        "gold",
        "12000.00",
    )
    await assert_consistent(sessions, customer_id)


async def test_a_refund_ahead_of_its_order_is_clawed_back_when_the_order_lands(sessions):
    customer_id, order_id = new_id("c"), new_id("o")

    await handle(sessions, refund(customer_id, order_id, "50.00"))
    assert await balance_of(sessions, customer_id) == 0
    await handle(sessions, order(customer_id, order_id, "100.00", T0 + timedelta(minutes=5)))

    assert await balance_of(sessions, customer_id) == 200 - 100
    await assert_consistent(sessions, customer_id)


async def test_an_order_older_than_the_tier_window_is_still_refunded_in_proportion(sessions):
    customer_id, old_order = new_id("c"), new_id("o")
    two_years_later = T0 + timedelta(days=730)
    await handle(sessions, order(customer_id, old_order, "400.00"))  # first order: 800
    await handle(sessions, order(customer_id, new_id("o"), "100.00", two_years_later))

    await handle(sessions, refund(customer_id, old_order, "100.00", two_years_later))
    await handle(sessions, refund(customer_id, old_order, "100.00", two_years_later))

    assert await balance_of(sessions, customer_id, two_years_later) == 800 + 100 - 400
    async with sessions() as session, session.begin():
        row = await session.get(Order, (customer_id, old_order))
        assert row is not None
        assert (row.refunded_fen, row.points_clawed_back) == (20000, 400)
    await assert_consistent(sessions, customer_id)


async def test_a_refund_delivered_twice_under_one_id_claws_back_once(sessions):
    customer_id, order_id = new_id("c"), new_id("o")
    await handle(sessions, order(customer_id, order_id, "100.00"))
    refunded = refund(customer_id, order_id, "50.00")

    await handle(sessions, refunded, refunded)  # the inbox is bypassed: the domain dedupes

    assert await balance_of(sessions, customer_id) == 100
    await assert_consistent(sessions, customer_id)


async def test_a_refund_that_empties_a_hold_settles_it_as_refunded(sessions):
    customer_id, order_id = new_id("c"), new_id("o")
    await handle(sessions, order(customer_id, order_id, "2600.00"))  # 5200: 200 held

    await handle(sessions, refund(customer_id, order_id, "100.00"))  # 200 due: from the hold

    async with sessions() as session, session.begin():
        [hold] = list(await session.scalars(select(Hold).where(Hold.customer_id == customer_id)))
    assert (hold.status, hold.points, hold.original_points) == ("refunded", 0, 200)
    assert await balance_of(sessions, customer_id) == 5000
    await assert_consistent(sessions, customer_id)


async def test_a_redemption_of_part_of_a_yuan_is_refused_naming_points(sessions):
    customer_id = new_id("c")
    await handle(sessions, order(customer_id, new_id("o"), "100.00"))

    async with sessions() as session, session.begin():
        with pytest.raises(RequestValidationError) as refused:
            await redeem_points(session, customer_id, 150, new_id("k"), now=T0)
    assert refused.value.errors()[0]["loc"] == ("body", "points")
    async with sessions() as session, session.begin():
        answer = await redeem_points(session, customer_id, 200, new_id("k"), now=T0)
    assert (answer.status_code, answer.body["balance"]) == (201, 0)


async def test_publishing_rules_increments_the_version_and_refuses_a_stale_one(sessions):
    async with sessions() as session, session.begin():
        row = await publish_rule_version(session, {"share_points": 120}, now=T0, admin="ops")
        assert (row.version, row.document["share_points"], row.published_by) == (2, 120, "ops")
    async with sessions() as session, session.begin():
        rules = await rules_in_force(session)
        assert (rules.version, rules.share_points, rules.check_in_points) == (2, 120, 10)
        with pytest.raises(Conflict):
            await publish_rule_version(session, {"version": 2}, now=T0, admin="ops")


@pytest.mark.parametrize(
    ("message", "submitted", "fields"),
    [
        ("gold_bonus must be a finite factor of at least 1", {"gold_bonus": 0}, ["gold_bonus"]),
        ("unknown business_timezone 'Mars'", {}, ["business_timezone"]),
        (
            "tier spends must rise: 0 < silver < gold < platinum",
            {"gold_min_spend": 1},
            ["gold_min_spend"],
        ),
        ("version must be at least 1", {}, ["version"]),
    ],
)
def test_a_refused_rule_names_its_field(message, submitted, fields):
    assert fields_named(message, submitted) == fields


async def test_money_round_trips_exactly(sessions):
    customer_id, order_id = new_id("c"), new_id("o")
    await handle(sessions, order(customer_id, order_id, "1299.10"))

    async with sessions() as session, session.begin():
        view = await points_view(session, customer_id, T0)
    assert view.tier_progress.net_spend == Decimal("1299.10")
    assert view.tier_progress.spend_to_next_tier == Decimal("700.90")
