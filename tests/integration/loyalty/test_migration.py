"""Migration 0002 carries the orders stored by 0001 into net spend by business month, on SQLite
and (with LOOPCRM_TEST_DATABASE_URL) PostgreSQL; the tier then goes on from those months."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa

from services.loyalty.app import create_app
from services.loyalty.settings import LoyaltySettings
from shared.app import attach_runtime
from shared.clock import FixedClock
from shared.db import UtcDateTime, create_engine
from shared.migrations import upgrade
from tests.support import builders
from tests.support.builders import new_id
from tests.support.databases import fresh_database
from tests.support.harness import ServiceHarness
from tests.support.services import AUTH, DEV_KEY

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "loyalty" / "migrations"
T0 = datetime(2025, 3, 10, 4, 0, tzinfo=UTC)

accounts = sa.table(
    "accounts",
    sa.column("customer_id", sa.String),
    sa.column("balance", sa.BigInteger),
    sa.column("held", sa.BigInteger),
    sa.column("debt", sa.BigInteger),
    sa.column("tier", sa.String),
    sa.column("orders_placed", sa.Integer),
    sa.column("tier_reviewed_month", sa.Date),
    sa.column("created_at", UtcDateTime()),
    sa.column("updated_at", UtcDateTime()),
)
orders = sa.table(
    "orders",
    sa.column("customer_id", sa.String),
    sa.column("order_id", sa.String),
    sa.column("amount_fen", sa.BigInteger),
    sa.column("placed_at", UtcDateTime()),
    sa.column("points_awarded", sa.BigInteger),
    sa.column("refunded_fen", sa.BigInteger),
    sa.column("points_clawed_back", sa.BigInteger),
)
monthly_spend = sa.table(
    "monthly_spend",
    sa.column("customer_id", sa.String),
    sa.column("business_month", sa.Date),
    sa.column("net_spend_fen", sa.BigInteger),
)


def order_row(customer_id: str, placed_at: datetime | None, amount: int | None, refunded: int):
    return {
        "customer_id": customer_id,
        "order_id": new_id("o"),
        "amount_fen": amount,
        "placed_at": placed_at,
        "points_awarded": 0,
        "refunded_fen": refunded,
        "points_clawed_back": 0,
    }


async def _as_of_0001(url: str, customer_id: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, url, "0001")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                accounts.insert().values(
                    customer_id=customer_id,
                    balance=0,
                    held=0,
                    debt=0,
                    tier="silver",
                    orders_placed=4,
                    tier_reviewed_month=date(2025, 3, 1),
                    created_at=T0 - timedelta(days=400),
                    updated_at=T0,
                )
            )
            await connection.execute(
                orders.insert(),
                [
                    # 23:30 UTC on Feb 28th is March 1st in Shanghai.
                    order_row(customer_id, datetime(2025, 2, 28, 23, 30, tzinfo=UTC), 600_000, 0),
                    order_row(customer_id, T0 - timedelta(days=2), 300_000, 100_000),
                    order_row(customer_id, T0 - timedelta(days=1), 50_000, 80_000),  # refunded
                    order_row(customer_id, T0 - timedelta(days=365), 900_000, 0),
                    order_row(customer_id, None, None, 5_000),  # its refund came first
                ],
            )
    finally:
        await engine.dispose()


async def test_migration_0002_carries_orders_into_spend_by_month(tmp_path: Path) -> None:
    customer_id = new_id("c")
    async with fresh_database(tmp_path, "loyalty") as url:
        await _as_of_0001(url, customer_id)
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "head")

        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                months = (
                    await connection.execute(
                        sa.select(monthly_spend.c.business_month, monthly_spend.c.net_spend_fen)
                        .where(monthly_spend.c.customer_id == customer_id)
                        .order_by(monthly_spend.c.business_month)
                    )
                ).all()
        finally:
            await engine.dispose()
        assert [tuple(row) for row in months] == [
            (date(2024, 3, 1), 900_000),
            (date(2025, 3, 1), 600_000 + 200_000 + 0),
        ]

        clock = FixedClock(T0 + timedelta(hours=1))
        settings = LoyaltySettings(
            database_url=url, dev_api_key=DEV_KEY, log_json=False, kafka_bootstrap="127.0.0.1:1"
        )
        app = create_app(settings, clock)
        runtime = attach_runtime(app)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://loyalty", headers=AUTH
            ) as client:
                loyalty = ServiceHarness(app, runtime, client, clock)
                body = (await client.get(f"/v1/customers/{customer_id}/points")).json()
                assert body["tier_progress"]["net_spend_12m"] == "8000.00"

                # 2000 more this month reach gold (10000): the months carried count.
                placed = builders.order_placed(customer_id, amount="2000.00", at=T0)
                assert await loyalty.deliver(placed) == ["handled"]
                [change] = await loyalty.published("tier.changed")
                assert (change.data["new_tier"], change.data["net_spend_12m"]) == (
                    "gold",
                    "10000.00",
                )
        finally:
            await runtime.engine.dispose()
