"""Orders known by id (``customer_orders``): read for a run in one statement, written in one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import cast

from sqlalchemy import Table, select

from services.profile.models import CustomerOrder
from services.profile.rules.facts import OrderRecord
from shared.bulk import upsert
from shared.transaction import Transaction

_orders = cast(Table, CustomerOrder.__table__)


async def order_records(
    tx: Transaction, order_ids: Iterable[str]
) -> dict[str, dict[str, OrderRecord]]:
    """The orders found of ``order_ids``, by customer and order id."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = await tx.session.execute(
        select(
            _orders.c.customer_id, _orders.c.order_id, _orders.c.placed_at, _orders.c.refunded
        ).where(_orders.c.order_id.in_(ids))
    )
    found: dict[str, dict[str, OrderRecord]] = {}
    for customer_id, order_id, placed_at, refunded in rows:
        found.setdefault(customer_id, {})[order_id] = OrderRecord(placed_at, bool(refunded))
    return found


async def save_order_records(
    tx: Transaction, records: Mapping[str, Mapping[str, OrderRecord]]
) -> None:
    """Write orders: customer id -> order id -> record."""
    rows = [
        {
            "order_id": order_id,
            "customer_id": customer_id,
            "placed_at": record.placed_at,
            "refunded": record.refunded,
        }
        for customer_id, by_id in records.items()
        for order_id, record in by_id.items()
    ]
    await upsert(
        tx.session, _orders, rows, key=["order_id"], update_columns=["placed_at", "refunded"]
    )
