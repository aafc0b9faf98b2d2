"""Reads for the API, each in a read-only session (`runtime.read()`): on SQLite it never
waits for the writer.

The points summary reads by key only what the handlers keep up to date: the account row, its
open lots due or expiring within the rulebook's window, and the net spend of the months of
its tier window; the rules shape the answer. Lists are cursor pages over a unique key
(`shared.pagination`); the ledger check is the one read that sums a customer's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.models import Account, Hold, LedgerEntryRow, RulebookVersion
from services.loyalty.models import Lot as LotRow
from services.loyalty.repository.rows import ACCOUNTS, LOTS, MONTHS, lot_of
from services.loyalty.repository.rulebook import (
    read_rulebook,
    rulebook_version,
    rulebook_version_in_force,
)
from services.loyalty.rules.book import PointsBook
from services.loyalty.rules.ledger import LedgerCheck
from services.loyalty.rules.lots import Lot
from services.loyalty.rules.rulebook import Tier
from services.loyalty.rules.tiers import (
    TierProgress,
    net_spend_by_month,
    tier_progress,
    tier_window_months,
)
from services.loyalty.schemas import (
    HoldPage,
    HoldPublic,
    HoldStatus,
    LedgerEntryPublic,
    LedgerPage,
    LotAllocationPublic,
    RulebookPublic,
)
from shared.errors import InvalidInput, NotFound
from shared.money import to_yuan
from shared.pagination import next_cursor


@dataclass(frozen=True)
class PointsView:
    customer_id: str
    balance: int
    held: int
    debt: int
    tier: Tier
    available: int
    tier_progress: TierProgress
    expiring: list[Lot]
    expiring_window_days: int
    as_of: datetime


_ACCOUNT = select(ACCOUNTS.c.balance, ACCOUNTS.c.held, ACCOUNTS.c.debt, ACCOUNTS.c.tier).where(
    ACCOUNTS.c.customer_id == bindparam("customer_id")
)
_LOTS_BY = select(LOTS).where(
    LOTS.c.customer_id == bindparam("customer_id"),
    LOTS.c.remaining > 0,
    LOTS.c.expires_at <= bindparam("horizon"),
)
_MONTHS_FROM = select(MONTHS.c.business_month, MONTHS.c.net_spend_fen).where(
    MONTHS.c.customer_id == bindparam("customer_id"),
    MONTHS.c.business_month >= bindparam("since"),
)


async def points_view(session: AsyncSession, customer_id: str, now: datetime) -> PointsView:
    """The account as of `now`: lots past their expiry but not yet swept are not available."""
    rulebook = await read_rulebook(session)
    key = {"customer_id": customer_id}
    row = (await session.execute(_ACCOUNT, key)).one_or_none()
    if row is None:
        raise NotFound("loyalty account", customer_id)
    window = timedelta(days=rulebook.expiring_soon_days)
    lots = [
        lot_of(lot) for lot in await session.execute(_LOTS_BY, {**key, "horizon": now + window})
    ]
    since = tier_window_months(now, rulebook)[0]
    months = await session.execute(_MONTHS_FROM, {**key, "since": since})
    spend = {month: to_yuan(fen) for month, fen in months}
    # Only lots due or expiring soon were read: they are all these two answers look at.
    book = PointsBook(customer_id, balance=row.balance, lots=lots)
    return PointsView(
        customer_id=customer_id,
        balance=row.balance,
        held=row.held,
        debt=row.debt,
        tier=Tier(row.tier),
        available=book.available_at(now),
        tier_progress=tier_progress(net_spend_by_month(spend, now, rulebook), rulebook),
        expiring=book.lots_expiring_soon(now, rulebook),
        expiring_window_days=rulebook.expiring_soon_days,
        as_of=now,
    )


async def ledger_page(
    session: AsyncSession, customer_id: str, *, limit: int, after: str | None
) -> LedgerPage:
    """Entries newest recorded first; `after` is the key of the page's cursor."""
    await _require_account(session, customer_id)
    query = select(LedgerEntryRow).where(LedgerEntryRow.customer_id == customer_id)
    if after is not None:
        if not after.isdigit():
            raise _foreign_cursor()
        query = query.where(LedgerEntryRow.seq < int(after))
    query = query.order_by(LedgerEntryRow.seq.desc()).limit(limit + 1)
    rows = list(await session.scalars(query))
    return LedgerPage(
        customer_id=customer_id,
        items=[entry_public(row) for row in rows[:limit]],
        next_cursor=next_cursor([str(row.seq) for row in rows], limit),
    )


async def list_holds(
    session: AsyncSession,
    *,
    status: HoldStatus,
    customer_id: str | None,
    limit: int,
    after: str | None,
) -> HoldPage:
    """Holds of one status, oldest held first; `total` counts every one of them."""
    condition = [Hold.status == status]
    if customer_id is not None:
        condition.append(Hold.customer_id == customer_id)
    total = await session.scalar(select(func.count()).select_from(Hold).where(*condition))
    query = select(Hold).where(*condition)
    if after is not None:
        held_at, hold_id = _hold_key(after)
        query = query.where(
            or_(Hold.held_at > held_at, and_(Hold.held_at == held_at, Hold.id > hold_id))
        )
    query = query.order_by(Hold.held_at, Hold.id).limit(limit + 1)
    rows = list(await session.scalars(query))
    return HoldPage(
        items=[hold_public(row) for row in rows[:limit]],
        total=total or 0,
        next_cursor=next_cursor([f"{row.held_at.isoformat()}|{row.id}" for row in rows], limit),
    )


def _hold_key(after: str) -> tuple[datetime, str]:
    held_at, _, hold_id = after.partition("|")
    try:
        at = datetime.fromisoformat(held_at)
    except ValueError as error:
        raise _foreign_cursor() from error
    if at.tzinfo is None or not hold_id:
        raise _foreign_cursor()
    return at, hold_id


def _foreign_cursor() -> InvalidInput:
    # Named as the kit's own cursor validation names it, so every refused cursor reads alike.
    return InvalidInput("cursor", "not a cursor returned by this API", location="query")


async def verify_ledger(session: AsyncSession, customer_id: str) -> LedgerCheck:
    """The stored totals against the sums over the ledger, lots and pending holds."""
    row = await _require_account(session, customer_id)
    points, kind = LedgerEntryRow.points, LedgerEntryRow.kind
    balance_sum = func.coalesce(func.sum(case((kind != "hold", points), else_=0)), 0)
    held_sum = func.coalesce(
        func.sum(case((kind == "hold", points), (kind == "release", -points), else_=0)), 0
    )
    balance_from_ledger, held_from_ledger = (
        await session.execute(
            select(balance_sum, held_sum).where(LedgerEntryRow.customer_id == customer_id)
        )
    ).one()
    lots_remaining = await session.scalar(
        select(func.coalesce(func.sum(LotRow.remaining), 0)).where(
            LotRow.customer_id == customer_id
        )
    )
    pending = await session.scalar(
        select(func.coalesce(func.sum(Hold.points), 0)).where(
            Hold.customer_id == customer_id, Hold.status == "pending"
        )
    )
    return LedgerCheck(
        customer_id=customer_id,
        balance=row.balance,
        balance_from_ledger=int(balance_from_ledger),
        held=row.held,
        held_from_ledger=int(held_from_ledger),
        pending_holds=int(pending or 0),
        debt=row.debt,
        lots_remaining=int(lots_remaining or 0),
        tier=Tier(row.tier),
    )


async def rulebook_in_force_public(session: AsyncSession) -> RulebookPublic:
    return rulebook_public(await rulebook_version_in_force(session))


async def rulebook_version_public(session: AsyncSession, version: int) -> RulebookPublic:
    row = await rulebook_version(session, version)
    if row is None:
        raise NotFound("rulebook version", str(version))
    return rulebook_public(row)


async def _require_account(session: AsyncSession, customer_id: str) -> Account:
    row = await session.get(Account, customer_id)
    if row is None:
        raise NotFound("loyalty account", customer_id)
    return row


def entry_public(row: LedgerEntryRow) -> LedgerEntryPublic:
    return LedgerEntryPublic(
        entry_id=row.entry_id,
        kind=row.kind,
        reason=row.reason,
        points=row.points,
        balance_after=row.balance_after,
        held_after=row.held_after,
        source_id=row.source_id,
        rule_version=row.rule_version,
        business_time=row.business_time,
        recorded_at=row.recorded_at,
        order_id=row.order_id,
        hold_id=row.hold_id,
        lot_expires_at=row.lot_expires_at,
        debt_repaid=row.debt_repaid,
        allocations=[LotAllocationPublic(**allocation) for allocation in row.allocations],
        note=row.note,
    )


def hold_public(hold: Hold) -> HoldPublic:
    return hold_public_of(
        {column.key: getattr(hold, column.key) for column in Hold.__table__.columns}
    )


def hold_public_of(values: dict[str, Any]) -> HoldPublic:
    """The public form of a hold's column values."""
    return HoldPublic(
        hold_id=values["id"],
        customer_id=values["customer_id"],
        points=values["points"],
        original_points=values["original_points"],
        reason=values["reason"],
        source_id=values["source_id"],
        order_id=values["order_id"],
        rule_version=values["rule_version"],
        held_at=values["held_at"],
        status=cast(HoldStatus, values["status"]),
        resolved_at=values["resolved_at"],
        resolved_by=values["resolved_by"],
    )


def rulebook_public(row: RulebookVersion) -> RulebookPublic:
    return RulebookPublic(
        version=row.version,
        published_at=row.published_at,
        published_by=row.published_by,
        rules=row.document,
    )
