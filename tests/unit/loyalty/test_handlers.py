"""Loyalty's handlers and commands through the harness: state, ledger and outbox, no broker."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.loyalty.commands.rulebook import fields_named, publish_rulebook
from services.loyalty.models import Hold, Order
from services.loyalty.queries import points_view, verify_ledger
from services.loyalty.repository.rulebook import rulebook_in_force
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK
from shared.clock import FixedClock
from shared.errors import Conflict
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2025, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
MIGRATION = Path(__file__).parents[3] / "services/loyalty/migrations/versions/0001_initial.py"


@pytest.fixture
async def loyalty(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    async with service_harness("loyalty", tmp_path, clock=FixedClock(T0)) as svc:
        yield svc


def order(customer_id: str, order_id: str, amount: str, at: datetime = T0) -> dict[str, Any]:
    return builders.order_placed(customer_id, order_id=order_id, amount=amount, at=at)


def refund(customer_id: str, order_id: str, amount: str, at: datetime = T0) -> dict[str, Any]:
    return builders.order_refunded(customer_id, order_id, amount=amount, at=at)


async def balance_of(svc: ServiceHarness, customer_id: str, now: datetime = T0) -> int:
    async with svc.runtime.read() as session:
        return (await points_view(session, customer_id, now)).balance


async def published_data(svc: ServiceHarness, event_type: str) -> list[dict[str, Any]]:
    return [event.data for event in await svc.published(event_type)]


async def assert_consistent(svc: ServiceHarness, customer_id: str) -> None:
    async with svc.runtime.read() as session:
        check = await verify_ledger(session, customer_id)
    assert check.consistent, check


def test_the_first_migration_stores_the_default_rulebook_as_version_1() -> None:
    spec = importlib.util.spec_from_file_location("loyalty_0001", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    assert DEFAULT_RULEBOOK.to_dict() == migration.INITIAL_RULES


async def test_an_order_over_the_cap_writes_the_earn_the_hold_and_the_tier_change(loyalty):
    customer_id = new_id("c")

    await loyalty.deliver(order(customer_id, new_id("o"), "12000.00"))

    [earned] = await published_data(loyalty, "points.earned")
    [held] = await published_data(loyalty, "points.held")
    [tier] = await published_data(loyalty, "tier.changed")
    assert (earned["points"], earned["balance"], earned["reason"]) == (5000, 5000, "order")
    assert earned["expires_at"].startswith("2028-03-10T04:00:00")
    assert (held["points"], held["business_day"]) == (24000 - 5000, "2025-03-10")
    assert (tier["old_tier"], tier["new_tier"], tier["net_spend_12m"]) == (
        "bronze",
        "gold",
        "12000.00",
    )
    assert {event.source for event in await loyalty.published()} == {"loopcrm/loyalty"}
    await assert_consistent(loyalty, customer_id)


async def test_a_refund_ahead_of_its_order_is_clawed_back_when_the_order_lands(loyalty):
    customer_id, order_id = new_id("c"), new_id("o")

    await loyalty.deliver(refund(customer_id, order_id, "50.00"))
    assert await balance_of(loyalty, customer_id) == 0
    await loyalty.deliver(order(customer_id, order_id, "100.00", T0 + timedelta(minutes=5)))

    assert await balance_of(loyalty, customer_id) == 200 - 100
    await assert_consistent(loyalty, customer_id)


async def test_an_order_older_than_the_tier_window_is_still_refunded_in_proportion(loyalty):
    customer_id, old_order = new_id("c"), new_id("o")
    two_years_later = T0 + timedelta(days=730)
    await loyalty.deliver(order(customer_id, old_order, "400.00"))  # first order: 800
    await loyalty.deliver(order(customer_id, new_id("o"), "100.00", two_years_later))

    await loyalty.deliver(refund(customer_id, old_order, "100.00", two_years_later))
    await loyalty.deliver(refund(customer_id, old_order, "100.00", two_years_later))

    assert await balance_of(loyalty, customer_id, two_years_later) == 800 + 100 - 400
    async with loyalty.transaction() as tx:
        row = await tx.session.get(Order, (customer_id, old_order))
        assert row is not None
        assert (row.refunded_fen, row.points_clawed_back) == (20000, 400)
    await assert_consistent(loyalty, customer_id)


async def test_a_refund_delivered_twice_under_one_id_claws_back_once(loyalty):
    customer_id, order_id = new_id("c"), new_id("o")
    await loyalty.deliver(order(customer_id, order_id, "100.00"))
    refunded = refund(customer_id, order_id, "50.00")
    # The same id from another source passes the inbox (keyed on source and id): the rules
    # dedupe on the id.
    again = {**refunded, "source": "storefront-replay"}

    assert await loyalty.deliver_each(refunded, again) == ["handled", "handled"]

    assert await balance_of(loyalty, customer_id) == 100
    await assert_consistent(loyalty, customer_id)


async def test_a_refund_that_empties_a_hold_settles_it_as_refunded(loyalty):
    customer_id, order_id = new_id("c"), new_id("o")
    await loyalty.deliver(order(customer_id, order_id, "2600.00"))  # 5200: 200 held

    await loyalty.deliver(refund(customer_id, order_id, "100.00"))  # 200 due: from the hold

    async with loyalty.transaction() as tx:
        query = select(Hold).where(Hold.customer_id == customer_id)
        [hold] = list(await tx.session.scalars(query))
    assert (hold.status, hold.points, hold.original_points) == ("refunded", 0, 200)
    assert await balance_of(loyalty, customer_id) == 5000
    await assert_consistent(loyalty, customer_id)


async def test_a_redemption_of_part_of_a_yuan_is_refused_naming_points(loyalty):
    customer_id = new_id("c")
    await loyalty.deliver(order(customer_id, new_id("o"), "100.00"))
    redemptions = f"/v1/customers/{customer_id}/redemptions"

    refused = await loyalty.client.post(
        redemptions, json={"points": 150}, headers={"Idempotency-Key": new_id("k")}
    )
    assert refused.status_code == 422
    [field] = refused.json()["error"]["fields"]
    assert (field["location"], field["field"]) == ("body", "points")
    answer = await loyalty.client.post(
        redemptions, json={"points": 200}, headers={"Idempotency-Key": new_id("k")}
    )
    assert (answer.status_code, answer.json()["balance"]) == (201, 0)


async def test_publishing_a_rulebook_increments_the_version_and_refuses_a_stale_one(loyalty):
    async with loyalty.transaction() as tx:
        published = await publish_rulebook(tx, {"share_points": 120}, admin="ops")
        assert (published.version, published.rules["share_points"], published.published_by) == (
            2,
            120,
            "ops",
        )
    async with loyalty.transaction() as tx:
        rulebook = await rulebook_in_force(tx)
        assert (rulebook.version, rulebook.share_points, rulebook.check_in_points) == (2, 120, 10)
        with pytest.raises(Conflict):
            await publish_rulebook(tx, {"version": 2}, admin="ops")


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


async def test_money_round_trips_exactly(loyalty):
    customer_id, order_id = new_id("c"), new_id("o")
    await loyalty.deliver(order(customer_id, order_id, "1299.10"))

    async with loyalty.runtime.read() as session:
        view = await points_view(session, customer_id, T0)
    assert view.tier_progress.net_spend == Decimal("1299.10")
    assert view.tier_progress.spend_to_next_tier == Decimal("700.90")
