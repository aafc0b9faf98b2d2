"""Loading a `PointsAccount` from its rows (`ledger` writes back what an operation changed).

`load_account` locks the account row (`SELECT ... FOR UPDATE` on PostgreSQL), then reads what
the operation may touch: open lots, pending holds, the orders of the tier window and any order
named, the once-only keys asked for, and the day's credited earns. Within one transaction, what
an earlier load of the customer read or wrote is taken from its rows in hand instead
(`in_hand`): a run of events costs the statements of what is new to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty import models
from services.loyalty.repository.in_hand import AccountRows, AccountsInHand
from services.loyalty.repository.rows import account_of, hold_of, lot_of, order_of
from services.loyalty.rules.account import PointsAccount
from services.loyalty.rules.business_time import business_day, subtract_calendar_months
from services.loyalty.rules.details import CustomerDetails
from services.loyalty.rules.referral import referral_keys_to_look_up
from services.loyalty.rules.rulebook import Rulebook
from services.loyalty.rules.tiers import business_month_start
from shared.transaction import Transaction


@dataclass
class LoadedAccount:
    """The account as the rules see it, and the customer's rows it was loaded from."""

    rows: AccountRows
    account: PointsAccount

    @property
    def row(self) -> models.Account:
        return self.rows.row

    @property
    def customer_id(self) -> str:
        return self.rows.customer_id


async def customer_details(
    tx: Transaction, customer_id: str, at: datetime, rulebook: Rulebook
) -> CustomerDetails:
    """The customer's details, the account row locked; an empty account is opened first for a
    customer not yet seen (safe when two transactions race to open it)."""
    row = (await _opened_account_rows(tx, customer_id, at, rulebook)).row
    return CustomerDetails(row.customer_id, row.birthday, row.referrer_id, row.erased_at)


def save_customer_details(tx: Transaction, details: CustomerDetails) -> None:
    """Keep the details of an account this transaction holds (`customer_details`)."""
    row = tx.held(AccountsInHand).accounts[details.customer_id].row
    row.birthday, row.referrer_id = details.birthday, details.referrer_id
    row.erased_at = details.erased_at
    row.updated_at = tx.now


async def account_row(
    tx: Transaction, customer_id: str, *, lock: bool = True
) -> models.Account | None:
    """The account row as stored, locked for the transaction on PostgreSQL when `lock`
    (SQLite transactions are exclusive already)."""
    query = select(models.Account).where(models.Account.customer_id == customer_id)
    if lock:
        query = query.with_for_update()
    return await tx.session.scalar(query.execution_options(populate_existing=True))


async def load_account(
    tx: Transaction,
    customer_id: str,
    *,
    at: datetime,
    rulebook: Rulebook,
    order_ids: Iterable[str] = (),
    reward_keys: Iterable[str] = (),
    lock: bool = True,
) -> LoadedAccount | None:
    """The account as of an operation at `at`, or None when loyalty has never heard of it."""
    rows = await _account_rows(tx, customer_id, lock=lock)
    if rows is None:
        return None
    return await _loaded(tx, rows, at, rulebook, order_ids, reward_keys)


async def open_account(
    tx: Transaction,
    customer_id: str,
    *,
    at: datetime,
    rulebook: Rulebook,
    order_ids: Iterable[str] = (),
    reward_keys: Iterable[str] = (),
    with_referral_keys: bool = False,
) -> LoadedAccount:
    """The account of a customer an event names, opened on first sight; with
    `with_referral_keys`, whether the referee's bonus was given is looked up too when it may
    be due (`referral_keys_to_look_up`)."""
    rows = await _opened_account_rows(tx, customer_id, at, rulebook)
    keys = list(reward_keys)
    if with_referral_keys:
        keys += referral_keys_to_look_up(rows.row.referrer_id, rows.row.orders_placed)
    return await _loaded(tx, rows, at, rulebook, order_ids, keys)


async def _loaded(
    tx: Transaction,
    rows: AccountRows,
    at: datetime,
    rulebook: Rulebook,
    order_ids: Iterable[str],
    reward_keys: Iterable[str],
) -> LoadedAccount:
    """Each query is skipped when the rows in hand or the account row show what it would find:
    every statement counts (a round trip of the async SQLite driver costs 0.3-0.5 ms)."""
    session = tx.session
    day = business_day(at, rulebook.business_timezone)
    named = sorted(set(order_ids))
    with session.no_autoflush:
        await _load_book(session, rows)
        orders = await _load_orders(session, rows, at, rulebook, named)
        await _load_refund_sources(session, rows, named)
        claimed_keys = await _load_reward_keys(session, rows, sorted(set(reward_keys)))
        day_row = await _load_day(session, rows, day)
    # By lot id, as SQLite's primary key index gives them: lots earned at one instant are
    # spent in the same order however they were loaded.
    open_lots = sorted(
        (lot for lot in rows.lots.values() if lot.remaining > 0), key=lambda lot: lot.lot_id
    )
    account = account_of(
        rows.row,
        lots=[lot_of(lot) for lot in open_lots],
        holds=[hold_of(hold) for hold in rows.holds.values() if hold.status == "pending"],
        orders=[order_of(order, _sources_if_named(rows, order, named)) for order in orders],
        claimed_keys=claimed_keys,
        earned_by_day={day: day_row.points if day_row else 0},
    )
    return LoadedAccount(rows, account)


async def _account_rows(tx: Transaction, customer_id: str, *, lock: bool) -> AccountRows | None:
    """The customer's rows in hand, its account row locked (when `lock`) the first time this
    transaction asks; rows read unlocked are not kept for later loads."""
    in_hand = tx.held(AccountsInHand).accounts
    rows = in_hand.get(customer_id)
    if rows is not None:
        return rows
    with tx.session.no_autoflush:
        row = await account_row(tx, customer_id, lock=lock)
    if row is None:
        return None
    rows = AccountRows(row)
    if lock:
        in_hand[customer_id] = rows
    return rows


async def _opened_account_rows(
    tx: Transaction, customer_id: str, at: datetime, rulebook: Rulebook
) -> AccountRows:
    in_hand = tx.held(AccountsInHand).accounts
    rows = await _account_rows(tx, customer_id, lock=True)
    if rows is None:
        with tx.session.no_autoflush:
            rows = in_hand[customer_id] = AccountRows(
                await _insert_empty_account(tx, customer_id, at, rulebook)
            )
    return rows


async def _insert_empty_account(
    tx: Transaction, customer_id: str, at: datetime, rulebook: Rulebook
) -> models.Account:
    values = {
        "customer_id": customer_id,
        "balance": 0,
        "held": 0,
        "debt": 0,
        "tier": "bronze",
        "orders_placed": 0,
        "tier_reviewed_month": business_month_start(at, rulebook),
        "created_at": at,
        "updated_at": at,
    }
    session = tx.session
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(models.Account)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(models.Account)
    )
    row = await session.scalar(statement)
    if row is None:  # another transaction opened it first: wait for it and lock
        row = await account_row(tx, customer_id)
    assert row is not None
    return row


async def _load_book(session: AsyncSession, rows: AccountRows) -> None:
    """Open lots and pending holds, once per transaction; later changes are made in hand."""
    if rows.book_loaded:
        return
    # balance = open lots - debt, and with a debt every lot is empty: no open lot unless > 0.
    if rows.row.balance > 0:
        lots = await session.scalars(_open_lots(rows.customer_id))
        rows.lots.update((lot.lot_id, lot) for lot in lots)
    if rows.row.held > 0:
        holds = await session.scalars(_pending_holds(rows.customer_id))
        rows.holds.update((hold.hold_key, hold) for hold in holds)
    rows.book_loaded = True


async def _load_orders(
    session: AsyncSession, rows: AccountRows, at: datetime, rulebook: Rulebook, named: list[str]
) -> list[models.Order]:
    """The orders of the tier window ending at `at` (a day's margin), and those named.

    Read every time (a named order may be stored though not yet in hand); those in hand
    that are not stored yet are added, and all are taken as they stand in hand.
    """
    window_start = subtract_calendar_months(at, rulebook.tier_window_months) - timedelta(days=1)
    in_scope = models.Order.placed_at > window_start
    if named:
        in_scope = or_(in_scope, models.Order.order_id.in_(named))
    query = select(models.Order).where(models.Order.customer_id == rows.customer_id, in_scope)
    for order in await session.scalars(query):
        rows.orders.setdefault(order.order_id, order)

    def in_hand_scope(order: models.Order) -> bool:
        placed_at = order.placed_at
        return order.order_id in named or (placed_at is not None and placed_at > window_start)

    return [order for order in rows.orders.values() if in_hand_scope(order)]


async def _load_refund_sources(session: AsyncSession, rows: AccountRows, named: list[str]) -> None:
    """The refunds of each order named, unless all of them are in hand already."""
    unknown = [order_id for order_id in named if order_id not in rows.refund_sources]
    refunded = [
        order_id
        for order_id in unknown
        if order_id in rows.orders and rows.orders[order_id].refunded_fen > 0
    ]
    for order_id in unknown:
        rows.refund_sources[order_id] = set()
    if not refunded:
        return
    query = select(models.OrderRefund).where(
        models.OrderRefund.customer_id == rows.customer_id,
        models.OrderRefund.order_id.in_(refunded),
    )
    for refund in await session.scalars(query):
        rows.refund_sources[refund.order_id].add(refund.source_id)


async def _load_reward_keys(session: AsyncSession, rows: AccountRows, keys: list[str]) -> set[str]:
    """Which of `keys` are claimed; only keys not in hand are looked up."""
    unknown = [key for key in keys if key not in rows.reward_keys]
    if unknown:
        query = select(models.ClaimedReward.reward_key).where(
            models.ClaimedReward.customer_id == rows.customer_id,
            models.ClaimedReward.reward_key.in_(unknown),
        )
        claimed = set(await session.scalars(query))
        rows.reward_keys.update((key, key in claimed) for key in unknown)
    return {key for key in keys if rows.reward_keys[key]}


async def _load_day(
    session: AsyncSession, rows: AccountRows, day: date
) -> models.DailyEarning | None:
    if day not in rows.days:
        rows.days[day] = await session.get(models.DailyEarning, (rows.customer_id, day))
    return rows.days[day]


def _sources_if_named(rows: AccountRows, order: models.Order, named: list[str]) -> set[str]:
    """The refunds the rules are given: those of the orders an operation names."""
    return rows.refund_sources[order.order_id] if order.order_id in named else set()


def _open_lots(customer_id: str) -> Select[models.Lot]:
    return select(models.Lot).where(models.Lot.customer_id == customer_id, models.Lot.remaining > 0)


def _pending_holds(customer_id: str) -> Select[models.Hold]:
    return select(models.Hold).where(
        models.Hold.customer_id == customer_id, models.Hold.status == "pending"
    )
