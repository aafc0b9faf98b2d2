"""Migration 0003 carries stored facts (format 1: lists of facts) into figures per day, orders
by id and the 360 document, on SQLite and (with LOOPCRM_TEST_DATABASE_URL) PostgreSQL; the
service then goes on from there. Migration 0004 rewrites order days as lists (format 3)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from alembic import command

from services.profile.app import create_app
from services.profile.settings import ProfileSettings
from shared.app import attach_runtime
from shared.clock import FixedClock
from shared.db import UtcDateTime, create_engine
from shared.migrations import alembic_config, upgrade
from tests.support import builders
from tests.support.databases import fresh_database
from tests.support.harness import ServiceHarness
from tests.support.services import AUTH, DEV_KEY

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "profile" / "migrations"
T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)

customers = sa.table(
    "customers",
    sa.column("customer_id", sa.String),
    sa.column("name", sa.String),
    sa.column("consents", sa.JSON),
    sa.column("registered_at", UtcDateTime()),
    sa.column("updated_at", UtcDateTime()),
    sa.column("open_tickets", sa.Integer),
    sa.column("tier", sa.String),
    sa.column("tier_since", UtcDateTime()),
    sa.column("tags_as_of", UtcDateTime()),
    sa.column("tags_review_at", UtcDateTime()),
)
features = sa.table(
    "customer_features",
    sa.column("customer_id", sa.String),
    sa.column("facts", sa.JSON),
    sa.column("updated_at", UtcDateTime()),
)
tags = sa.table(
    "customer_tags",
    sa.column("customer_id", sa.String),
    sa.column("tag", sa.String),
    sa.column("since", UtcDateTime()),
)
tickets = sa.table(
    "ticket_states",
    sa.column("ticket_id", sa.String),
    sa.column("customer_id", sa.String),
    sa.column("opened_at", UtcDateTime()),
)


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def stored_facts() -> dict[str, Any]:
    """Format 1 as revision 0002's code wrote it: 12 appliance views, two orders (one
    refunded), a review, an inquiry and a logistics complaint."""
    return {
        "v": 1,
        "views": {"robot_vacuum": [micros(T0 + n * MINUTE) for n in range(12)]},
        "orders": [
            {
                "id": "o-1",
                "t": micros(T0 - timedelta(days=2)),
                "amount": "900.00",
                "list": "1000.00",
                "qty": 2,
                "cats": {"robot_vacuum": "1000.00"},
                "ch": "online",
            },
            {
                "id": "o-2",
                "t": micros(T0 - timedelta(days=1)),
                "amount": "100.00",
                "list": None,
                "qty": 0,
                "cats": {},
                "ch": None,
            },
        ],
        "refunds": [
            {"order": "o-1", "t": micros(T0), "amount": "900.00", "reason": "changed_mind"}
        ],
        "reviews": [{"t": micros(T0), "rating": 5}],
        "tickets": [{"id": "t-1", "t": micros(T0), "kind": "inquiry", "cat": "logistics"}],
        "complaints": [
            {"id": "t-1", "t": micros(T0), "cat": "logistics"},
            {"id": "t-2", "t": micros(T0), "cat": "quality"},
        ],
        "resolutions": [],
        "lifetime": {
            "orders": 3,
            "spend": "1050.00",
            "first_order": micros(T0 - timedelta(days=500)),
            "last_order": micros(T0 - timedelta(days=1)),
        },
    }


async def _as_of_0002(url: str, customer_id: str) -> None:
    await asyncio.to_thread(upgrade, MIGRATIONS, url, "0002")
    engine = create_engine(url)
    as_of = T0 + 11 * MINUTE
    try:
        async with engine.begin() as connection:
            await connection.execute(
                customers.insert().values(
                    customer_id=customer_id,
                    name="Li Wei",
                    consents={"email": True},
                    registered_at=T0 - timedelta(days=600),
                    updated_at=T0,
                    open_tickets=1,
                    tier="gold",
                    tier_since=T0,
                    tags_as_of=as_of,
                    tags_review_at=T0 + timedelta(days=30),
                )
            )
            await connection.execute(
                features.insert().values(
                    customer_id=customer_id, facts=stored_facts(), updated_at=as_of
                )
            )
            await connection.execute(
                tags.insert(),
                [
                    {"customer_id": customer_id, "tag": tag, "since": as_of}
                    for tag in ("appliance_intent", "vip")
                ],
            )
            await connection.execute(
                tickets.insert().values(ticket_id="t-1", customer_id=customer_id, opened_at=T0)
            )
    finally:
        await engine.dispose()


async def test_migration_0003_carries_stored_facts_forward(tmp_path: Path) -> None:
    customer_id = builders.new_id("c")
    async with fresh_database(tmp_path, "profile") as url:
        await _as_of_0002(url, customer_id)
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "head")

        clock = FixedClock(T0 + timedelta(days=1))
        settings = ProfileSettings(
            database_url=url, dev_api_key=DEV_KEY, log_json=False, kafka_bootstrap="127.0.0.1:1"
        )
        app = create_app(settings, clock)
        runtime = attach_runtime(app)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://profile", headers=AUTH
            ) as client:
                profile = ServiceHarness(app, runtime, client, clock)
                body = (await client.get(f"/v1/customers/{customer_id}")).json()
                assert (body["name"], body["tier"], body["open_tickets"]) == ("Li Wei", "gold", 1)
                assert body["tags"] == ["appliance_intent", "vip"]
                assert body["tags_as_of"].startswith((T0 + 11 * MINUTE).isoformat()[:19])
                assert body["activity"] == {
                    "as_of": "2026-06-15T12:11:00Z",
                    "lifetime_orders": 3,
                    "lifetime_spend": "1050.00",
                    "last_order_at": "2026-06-14T12:00:00Z",
                    "last_seen_at": "2026-06-15T12:11:00Z",
                    "orders_365d": 2,
                    "spend_365d": "1000.00",
                    "avg_order_value_365d": "500.00",
                    "refunds_90d": 1,
                    "views_30d": 12,
                    "inquiries_30d": 1,
                    "complaints_365d": 2,
                    "avg_rating_365d": "5.00",
                }

                # Orders known by id: o-1 again counts nothing; its second refund is a refund
                # but no second refunded order. Complaints count once per ticket.
                outcomes = await profile.deliver(
                    builders.order_placed(customer_id, order_id="o-1", at=T0 + 20 * MINUTE),
                    builders.order_refunded(customer_id, "o-1", at=T0 + 21 * MINUTE),
                    builders.complaint_opened(customer_id, ticket_id="t-1", at=T0 + 22 * MINUTE),
                    builders.product_viewed(
                        customer_id, category="robot_vacuum", at=T0 + 23 * MINUTE
                    ),
                )
                assert outcomes == ["handled"] * 4
                after = (await client.get(f"/v1/customers/{customer_id}")).json()["activity"]
                assert (after["lifetime_orders"], after["orders_365d"]) == (3, 2)
                assert (after["refunds_90d"], after["complaints_365d"]) == (2, 2)
                assert after["views_30d"] == 13
                assert (
                    "frequent_returner"
                    in (await client.get(f"/v1/customers/{customer_id}")).json()["tags"]
                )  # 1 refunded of 2 orders: 50 %
        finally:
            await runtime.engine.dispose()


stored_features = sa.table(
    "customers", sa.column("customer_id", sa.String), sa.column("features", sa.JSON)
)


async def _features_of(url: str, customer_id: str) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            query = sa.select(stored_features.c.features).where(
                stored_features.c.customer_id == customer_id
            )
            document: dict[str, Any] = (await connection.execute(query)).scalar_one()
            return document
    finally:
        await engine.dispose()


async def test_migration_0004_writes_order_days_as_lists_and_back(tmp_path: Path) -> None:
    customer_id = builders.new_id("c")
    async with fresh_database(tmp_path, "profile") as url:
        await _as_of_0002(url, customer_id)
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "0003")
        format_2 = await _features_of(url, customer_id)
        assert format_2["v"] == 2
        first_day = format_2["orders"][0]
        assert (first_day["n"], first_day["amount"], first_day["cats"]) == (
            1,
            "900.00",
            {"robot_vacuum": "1000.00"},
        )

        await asyncio.to_thread(upgrade, MIGRATIONS, url, "0004")
        format_3 = await _features_of(url, customer_id)
        assert format_3["v"] == 3
        assert format_3["orders"] == [
            [
                day["t"],
                day["n"],
                day["amount"],
                day["max"],
                day["items"],
                day["sets"],
                day["cats"],
                day["ch"],
                day["priced"],
                day["discounted"],
                day["list"],
                day["discount"],
                day["refunded"],
            ]
            for day in format_2["orders"]
        ]
        assert {k: v for k, v in format_3.items() if k not in ("v", "orders")} == {
            k: v for k, v in format_2.items() if k not in ("v", "orders")
        }

        await asyncio.to_thread(command.downgrade, alembic_config(MIGRATIONS, url), "0003")
        assert await _features_of(url, customer_id) == format_2
