"""Fact rows kept by their own ids: orders (an order republished counts once, refunds find
their order), complaints (once per ticket) and erasures. Set-based: one statement per table
for a whole run."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.segmentation.models import CustomerComplaint, CustomerOrder, Erasure
from services.segmentation.repository.members import MEMBERS
from services.segmentation.rules.facts import later_erasure
from shared import bulk

ORDERS = cast(Table, CustomerOrder.__table__)
COMPLAINTS = cast(Table, CustomerComplaint.__table__)
ERASURES = cast(Table, Erasure.__table__)
OrderKey = tuple[str, str]
"""(customer_id, order_id)"""


@dataclass
class OrderRow:
    """An order as stored: ``placed_at`` and ``amount_fen`` are None until the order lands."""

    customer_id: str
    order_id: str
    placed_at: datetime | None = None
    amount_fen: int | None = None
    refunded_fen: int = 0


async def erasures(session: AsyncSession, customer_ids: Collection[str]) -> dict[str, datetime]:
    """When each of ``customer_ids`` that was erased was erased."""
    if not customer_ids:
        return {}
    query = select(ERASURES.c.customer_id, ERASURES.c.erased_at).where(
        ERASURES.c.customer_id.in_(customer_ids)
    )
    return {customer_id: at for customer_id, at in await session.execute(query)}


async def land_orders(session: AsyncSession, orders: Sequence[OrderRow]) -> dict[OrderKey, int]:
    """Record placed orders (``orders`` name each order once); returns, for each order that
    landed now, what was refunded before it arrived. An order already placed is left alone
    and not returned."""
    rows = [
        {
            "customer_id": order.customer_id,
            "order_id": order.order_id,
            "placed_at": order.placed_at,
            "amount_fen": order.amount_fen,
            "refunded_fen": 0,
        }
        for order in orders
    ]
    landed = await bulk.insert_new(
        session,
        ORDERS,
        rows,
        returning=("customer_id", "order_id", "refunded_fen"),
        fill=("placed_at", "amount_fen"),
        fill_when_null="placed_at",
    )
    return {(customer_id, order_id): refunded for customer_id, order_id, refunded in landed}


async def orders_by_key(
    session: AsyncSession, keys: Collection[OrderKey]
) -> dict[OrderKey, OrderRow]:
    """The stored orders among ``keys`` (a refund's order), in one query."""
    if not keys:
        return {}
    query = select(ORDERS).where(tuple_(ORDERS.c.customer_id, ORDERS.c.order_id).in_(list(keys)))
    return {
        (row.customer_id, row.order_id): OrderRow(
            row.customer_id, row.order_id, row.placed_at, row.amount_fen, row.refunded_fen
        )
        for row in await session.execute(query)
    }


async def save_refunds(session: AsyncSession, orders: Sequence[OrderRow]) -> None:
    """Write what the orders now have refunded; an order not yet placed is kept for it."""
    rows = [_order_values(order) for order in orders]
    await bulk.upsert(
        session, ORDERS, rows, key=("customer_id", "order_id"), update_columns=("refunded_fen",)
    )


async def latest_kept_orders(
    session: AsyncSession, customer_ids: Collection[str]
) -> dict[str, datetime]:
    """When each customer's latest order not refunded in full was placed. Only for a refund
    that took back the latest order when the one before it has left the window (rare)."""
    if not customer_ids:
        return {}
    kept = or_(ORDERS.c.refunded_fen == 0, ORDERS.c.refunded_fen < ORDERS.c.amount_fen)
    query = (
        select(ORDERS.c.customer_id, func.max(ORDERS.c.placed_at))
        .where(ORDERS.c.customer_id.in_(customer_ids), ORDERS.c.placed_at.is_not(None), kept)
        .group_by(ORDERS.c.customer_id)
    )
    return {customer_id: at for customer_id, at in await session.execute(query)}


async def record_complaints(
    session: AsyncSession, complaints: Sequence[tuple[str, str, datetime]]
) -> set[tuple[str, str]]:
    """Record (customer_id, ticket_id, opened_at), each ticket once (``complaints`` name each
    once); returns those new to us."""
    rows = [{"customer_id": c, "ticket_id": t, "opened_at": at} for c, t, at in complaints]
    new = await bulk.insert_new(session, COMPLAINTS, rows, returning=("customer_id", "ticket_id"))
    return {(customer_id, ticket_id) for customer_id, ticket_id in new}


async def erase_customer(session: AsyncSession, customer_id: str, *, erased_at: datetime) -> None:
    """Delete everything held about the customer; keep only the id and the time of erasure."""
    for table in (MEMBERS, ORDERS, COMPLAINTS):  # the member first, as runs lock it
        await session.execute(delete(table).where(table.c.customer_id == customer_id))
    known = (await erasures(session, [customer_id])).get(customer_id)
    row = {"customer_id": customer_id, "erased_at": later_erasure(known, erased_at)}
    await bulk.upsert(session, ERASURES, [row], key=("customer_id",))


def _order_values(order: OrderRow) -> dict[str, Any]:
    return {
        "customer_id": order.customer_id,
        "order_id": order.order_id,
        "placed_at": order.placed_at,
        "amount_fen": order.amount_fen,
        "refunded_fen": order.refunded_fen,
    }
