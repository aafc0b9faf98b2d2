"""Loading a `PointsAccount` from its rows (`saving` writes back what an operation changed).

`load_account` reads (and on PostgreSQL locks, `SELECT ... FOR UPDATE`) the account row, then
what the operation may touch: open lots, pending holds, the orders of the tier window and any
order named, the once-only keys asked for, and the day's credited earns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import Select, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty import models
from services.loyalty.conversions import account_of, hold_of, lot_of, order_of
from services.loyalty.domain import LoyaltyRules, PointsAccount, business_day
from services.loyalty.domain.business_time import subtract_calendar_months

RowT = TypeVar("RowT")


@dataclass
class LoadedAccount:
    """The account as the domain sees it, and the rows it was loaded from."""

    row: models.Account
    account: PointsAccount
    lots: dict[str, models.Lot]
    holds: dict[str, models.Hold]
    orders: dict[str, models.Order]
    refund_sources: dict[str, set[str]]
    claimed_keys: set[str]
    days: dict[date, models.DailyEarning]

    @property
    def customer_id(self) -> str:
        return self.row.customer_id


def month_start(at: datetime, rules: LoyaltyRules) -> date:
    """First day of the business month `at` falls in."""
    return business_day(at, rules.business_timezone).replace(day=1)


def new_public_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


async def open_account_row(
    session: AsyncSession, customer_id: str, at: datetime, rules: LoyaltyRules
) -> models.Account:
    """The account row, locked; an empty account is opened first for a customer not yet seen
    (safe when two transactions race to open it)."""
    row = await account_row(session, customer_id)
    if row is not None:
        return row
    values = {
        "customer_id": customer_id,
        "balance": 0,
        "held": 0,
        "debt": 0,
        "tier": "bronze",
        "orders_placed": 0,
        "tier_reviewed_month": month_start(at, rules),
        "created_at": at,
        "updated_at": at,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(models.Account).values(**values).on_conflict_do_nothing()
    await session.execute(statement)
    row = await account_row(session, customer_id)
    assert row is not None
    return row


async def account_row(
    session: AsyncSession, customer_id: str, *, lock: bool = True
) -> models.Account | None:
    """The account row, locked for the transaction on PostgreSQL when `lock` (SQLite
    transactions are exclusive already)."""
    query = select(models.Account).where(models.Account.customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def load_account(
    session: AsyncSession,
    customer_id: str,
    *,
    at: datetime,
    rules: LoyaltyRules,
    order_ids: Iterable[str] = (),
    reward_keys: Iterable[str] = (),
    lock: bool = True,
    open_if_missing: bool = False,
) -> LoadedAccount | None:
    """The account as of an operation at `at`, or None when loyalty has never heard of it.

    Each query is skipped when the account row shows it would find nothing: every statement
    counts when each event is its own transaction.
    """
    if open_if_missing:
        row: models.Account | None = await open_account_row(session, customer_id, at, rules)
    else:
        row = await account_row(session, customer_id, lock=lock)
    if row is None:
        return None
    day = business_day(at, rules.business_timezone)
    # balance = open lots - debt, and with a debt every lot is empty: no open lot unless > 0.
    lots = await _rows(session, _open_lots(customer_id)) if row.balance > 0 else []
    holds = await _rows(session, _pending_holds(customer_id)) if row.held > 0 else []
    named = sorted(set(order_ids))
    orders = await _rows(session, _orders(customer_id, at, rules, named))
    refunded = sorted(o.order_id for o in orders if o.order_id in named and o.refunded_fen > 0)
    refund_sources = await _refund_sources(session, customer_id, refunded)
    keys = await _claimed_keys(session, customer_id, sorted(set(reward_keys)))
    day_row = await session.get(models.DailyEarning, (customer_id, day))
    account = account_of(
        row,
        lots=[lot_of(lot) for lot in lots],
        holds=[hold_of(hold) for hold in holds],
        orders=[order_of(order, refund_sources.get(order.order_id, set())) for order in orders],
        claimed_keys=keys,
        earned_by_day={day: day_row.points if day_row else 0},
    )
    return LoadedAccount(
        row=row,
        account=account,
        lots={lot.lot_id: lot for lot in lots},
        holds={hold.hold_key: hold for hold in holds},
        orders={order.order_id: order for order in orders},
        refund_sources={order_id: refund_sources.get(order_id, set()) for order_id in named},
        claimed_keys=set(keys),
        days={day: day_row} if day_row else {},
    )


def _open_lots(customer_id: str) -> Select[models.Lot]:
    return select(models.Lot).where(models.Lot.customer_id == customer_id, models.Lot.remaining > 0)


def _pending_holds(customer_id: str) -> Select[models.Hold]:
    return select(models.Hold).where(
        models.Hold.customer_id == customer_id, models.Hold.status == "pending"
    )


def _orders(
    customer_id: str, at: datetime, rules: LoyaltyRules, named: list[str]
) -> Select[models.Order]:
    """The orders of the tier window ending at `at` (a day's margin), and those named."""
    window_start = subtract_calendar_months(at, rules.tier_window_months) - timedelta(days=1)
    in_scope = models.Order.placed_at > window_start
    if named:
        in_scope = or_(in_scope, models.Order.order_id.in_(named))
    return select(models.Order).where(models.Order.customer_id == customer_id, in_scope)


async def _refund_sources(
    session: AsyncSession, customer_id: str, order_ids: list[str]
) -> dict[str, set[str]]:
    sources: dict[str, set[str]] = {}
    if not order_ids:
        return sources
    query = select(models.OrderRefund).where(
        models.OrderRefund.customer_id == customer_id, models.OrderRefund.order_id.in_(order_ids)
    )
    for refund in await _rows(session, query):
        sources.setdefault(refund.order_id, set()).add(refund.source_id)
    return sources


async def _claimed_keys(session: AsyncSession, customer_id: str, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    query = select(models.ClaimedReward.reward_key).where(
        models.ClaimedReward.customer_id == customer_id,
        models.ClaimedReward.reward_key.in_(keys),
    )
    return set(await session.scalars(query))


async def _rows(session: AsyncSession, query: Select[RowT]) -> list[RowT]:
    return list(await session.scalars(query))
