"""What is stored of a set of customers, one query per table (`accounts.load_accounts`).

Each query is built once per dialect and takes the whole set as parameters: on PostgreSQL
arrays joined as a table (`JOIN unnest($1, $2)`: one statement text whatever the set's size,
prepared once, and a plan that stays an index lookup when the server plans it generically —
`= ANY($1)` turned into a scan comparing every row to the whole array), on SQLite expanding
IN lists (whose rows outside the pairs asked for are dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, Table, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.repository.rows import (
    ACCOUNTS,
    CLAIMED,
    DAYS,
    HOLDS,
    LOTS,
    MONTHS,
    ORDER_REFUNDS,
    ORDERS,
    Values,
)
from services.loyalty.rules.business_time import business_day
from services.loyalty.rules.rulebook import Rulebook
from services.loyalty.rules.tiers import tier_window_months

if TYPE_CHECKING:
    from services.loyalty.repository.accounts import Wanted


@dataclass
class Stored:
    """What was stored for one customer when it was loaded (`row` None: nothing yet). With
    the book: its open lots (those asked for) and pending holds, the orders named (their
    refunds when asked),
    the keys asked about that are claimed, the credited earns of the days asked about, and the
    net spend in fen of the months of the tier windows asked about (and any later month)."""

    row: Any = None
    lots: dict[str, Any] = field(default_factory=dict)
    holds: list[Any] = field(default_factory=list)
    orders: dict[str, Values] = field(default_factory=dict)
    refund_sources: dict[str, frozenset[str]] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)
    days: dict[date, int] = field(default_factory=dict)
    months: dict[date, int] = field(default_factory=dict)


async def read_account_rows(
    session: AsyncSession, customer_ids: Iterable[str], *, lock: bool
) -> dict[str, Any]:
    """The account rows of `customer_ids` that exist, locked in customer order when `lock`."""
    ids = sorted(customer_ids)
    if not ids:
        return {}
    queries = _queries(session)
    result = await session.execute(queries.rows_locked if lock else queries.rows, {"ids": ids})
    return {row.customer_id: row for row in result}


async def read_stored(
    session: AsyncSession,
    rulebook: Rulebook,
    rows: Mapping[str, Any],
    wanted: Mapping[str, Wanted],
) -> dict[str, Stored]:
    """What is stored of each customer with an account row (`rows`)."""
    stored = {customer_id: Stored(row) for customer_id, row in rows.items()}
    ids = sorted(rows)
    if not ids:
        return stored
    queries = _queries(session)
    orders = {(c, o) for c in ids for o in wanted[c].order_ids}
    for row in await _rows_of_pairs(session, queries.orders, orders):
        stored[row.customer_id].orders[row.order_id] = row._asdict()
    await _read_open_lots(session, queries, stored, wanted)
    with_held = [c for c in ids if rows[c].held > 0]
    if with_held:
        for row in await session.execute(queries.pending_holds, {"ids": with_held}):
            stored[row.customer_id].holds.append(row)
    await _read_refund_sources(session, queries, stored, wanted)
    keys = {(c, k) for c in ids for k in wanted[c].reward_keys}
    for row in await _rows_of_pairs(session, queries.claimed, keys):
        stored[row.customer_id].claimed.add(row.reward_key)
    timezone = rulebook.business_timezone
    days = {(c, business_day(at, timezone)) for c in ids for at in wanted[c].times}
    for row in await _rows_of_pairs(session, queries.days, days):
        stored[row.customer_id].days[row.business_day] = row.points
    await _read_months(session, queries, rulebook, stored, wanted)
    return stored


async def _read_open_lots(
    session: AsyncSession,
    queries: _Queries,
    stored: Mapping[str, Stored],
    wanted: Mapping[str, Wanted],
) -> None:
    """Every open lot of the customers that need them all, the lots due by the latest time
    asked for of the others (a customer with a balance of 0 or less has no open lot)."""
    every: list[str] = []
    due: list[str] = []
    due_by: list[datetime] = []
    for customer_id, found in stored.items():
        needs = wanted[customer_id]
        if found.row.balance <= 0:
            continue
        if needs.every_lot or any(_refunded_before_placed(o) for o in found.orders.values()):
            every.append(customer_id)
        elif needs.lots_due_by is not None:
            due.append(customer_id)
            due_by.append(needs.lots_due_by)
    found_lots: list[Any] = []
    if every:
        found_lots += await session.execute(queries.open_lots, {"ids": sorted(every)})
    if due:
        parameters = {"ids": sorted(due), "due_by": max(due_by)}
        found_lots += await session.execute(queries.due_lots, parameters)
    for row in found_lots:
        stored[row.customer_id].lots[row.lot_id] = row


def _refunded_before_placed(order: Values) -> bool:
    """Placing it claws back at once, possibly from any lot."""
    return order["amount_fen"] is None and order["refunded_fen"] > 0


async def _read_refund_sources(
    session: AsyncSession,
    queries: _Queries,
    stored: Mapping[str, Stored],
    wanted: Mapping[str, Wanted],
) -> None:
    """The refunds so far of each order a refund names (nothing to read if it has none)."""
    refunded: set[tuple[str, str]] = set()
    for customer_id, found in stored.items():
        for order_id in wanted[customer_id].refunds_of:
            order = found.orders.get(order_id)
            found.refund_sources[order_id] = frozenset()
            if order is not None and order["refunded_fen"] > 0:
                refunded.add((customer_id, order_id))
    sources: dict[tuple[str, str], set[str]] = {pair: set() for pair in refunded}
    for row in await _rows_of_pairs(session, queries.refunds, refunded):
        sources[(row.customer_id, row.order_id)].add(row.source_id)
    for (customer_id, order_id), source_ids in sources.items():
        stored[customer_id].refund_sources[order_id] = frozenset(source_ids)


async def _read_months(
    session: AsyncSession,
    queries: _Queries,
    rulebook: Rulebook,
    stored: Mapping[str, Stored],
    wanted: Mapping[str, Wanted],
) -> None:
    times: list[datetime] = [at for c in stored for at in wanted[c].times]
    if not times:
        return
    # Every window starts at or after the one of the earliest time.
    since = tier_window_months(min(times), rulebook)[0]
    ids = sorted(c for c in stored if wanted[c].times)
    for row in await session.execute(queries.months, {"ids": ids, "since": since}):
        stored[row.customer_id].months[row.business_month] = row.net_spend_fen


async def _rows_of_pairs(
    session: AsyncSession, query: Any, pairs: set[tuple[str, Any]]
) -> list[Any]:
    """The rows whose (customer, second key) is one of `pairs`."""
    if not pairs:
        return []
    ordered = sorted(pairs)
    parameters = {"ids": [c for c, _ in ordered], "seconds": [s for _, s in ordered]}
    return [row for row in await session.execute(query, parameters) if (row[0], row[1]) in pairs]


@dataclass(frozen=True)
class _Queries:
    rows: Any
    rows_locked: Any
    open_lots: Any
    due_lots: Any
    pending_holds: Any
    orders: Any
    refunds: Any
    claimed: Any
    days: Any
    months: Any


def _build(postgresql: bool) -> _Queries:
    def keyed(table: Table, *columns: str) -> Any:
        """The rows of `table` whose `columns` are among the values given as `names`: on
        PostgreSQL joined to the parameters' arrays unnested (a plan that stays good once
        the server plans the statement generically), on SQLite as IN lists."""
        keys = list(zip([table.c[name] for name in columns], ("ids", "seconds"), strict=False))
        if not postgresql:
            return select(table).where(
                *(key.in_(bindparam(name, expanding=True)) for key, name in keys)
            )
        arrays = [bindparam(name, type_=ARRAY(key.type)) for key, name in keys]
        given = func.unnest(*arrays).table_valued(*columns).render_derived()
        return select(table).join(given, and_(*(key == given.c[key.name] for key, _ in keys)))

    rows = keyed(ACCOUNTS, "customer_id").order_by(ACCOUNTS.c.customer_id)
    return _Queries(
        rows=rows,
        rows_locked=rows.with_for_update(of=ACCOUNTS),
        open_lots=keyed(LOTS, "customer_id").where(LOTS.c.remaining > 0),
        due_lots=keyed(LOTS, "customer_id").where(
            LOTS.c.remaining > 0, LOTS.c.expires_at <= bindparam("due_by")
        ),
        pending_holds=keyed(HOLDS, "customer_id").where(HOLDS.c.status == "pending"),
        # Each pair's two columns come first: `_rows_of_pairs` keeps the pairs asked for.
        orders=keyed(ORDERS, "customer_id", "order_id"),
        refunds=keyed(ORDER_REFUNDS, "customer_id", "order_id"),
        claimed=keyed(CLAIMED, "customer_id", "reward_key"),
        days=keyed(DAYS, "customer_id", "business_day"),
        months=keyed(MONTHS, "customer_id").where(MONTHS.c.business_month >= bindparam("since")),
    )


_BY_DIALECT = {"postgresql": _build(postgresql=True), "sqlite": _build(postgresql=False)}


def _queries(session: AsyncSession) -> _Queries:
    return _BY_DIALECT[session.get_bind().dialect.name]
