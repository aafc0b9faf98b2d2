"""Reads: the points summary, the ledger, the holds, the ledger check and the rulebook.

Where the rules compute the answer (points, the ledger check) a query returns their values;
where stored rows are the answer it returns the public models, so routes never see a row.
Lists are cursor pages over a unique key (`shared.pagination`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import and_, case, func, or_, select

from services.loyalty.models import Account, Hold, LedgerEntryRow, RulebookVersion
from services.loyalty.models import Lot as LotRow
from services.loyalty.repository.accounts import account_row, load_account
from services.loyalty.repository.rulebook import (
    rulebook_in_force,
    rulebook_version,
    rulebook_version_in_force,
)
from services.loyalty.rules.account import PointsAccount
from services.loyalty.rules.ledger import LedgerCheck
from services.loyalty.rules.lots import Lot
from services.loyalty.rules.rulebook import Tier
from services.loyalty.rules.tiers import TierProgress
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
from shared.pagination import next_cursor
from shared.transaction import Transaction


@dataclass(frozen=True)
class PointsView:
    account: PointsAccount
    available: int
    tier_progress: TierProgress
    expiring: list[Lot]
    expiring_window_days: int
    as_of: datetime


async def points_view(tx: Transaction, customer_id: str) -> PointsView:
    """The account as of the transaction's time: lots past their expiry but not yet swept are
    not available."""
    rulebook = await rulebook_in_force(tx)
    now = tx.now
    loaded = await load_account(tx, customer_id, at=now, rulebook=rulebook, lock=False)
    if loaded is None:
        raise NotFound("loyalty account", customer_id)
    account = loaded.account
    return PointsView(
        account=account,
        available=account.available_at(now),
        tier_progress=account.tier_progress(now, rulebook),
        expiring=account.lots_expiring_soon(now, rulebook),
        expiring_window_days=rulebook.expiring_soon_days,
        as_of=now,
    )


async def ledger_page(
    tx: Transaction, customer_id: str, *, limit: int, after: str | None
) -> LedgerPage:
    """Entries newest recorded first; `after` is the key of the page's cursor."""
    await _require_account(tx, customer_id)
    query = select(LedgerEntryRow).where(LedgerEntryRow.customer_id == customer_id)
    if after is not None:
        if not after.isdigit():
            raise _foreign_cursor()
        query = query.where(LedgerEntryRow.seq < int(after))
    query = query.order_by(LedgerEntryRow.seq.desc()).limit(limit + 1)
    rows = list(await tx.session.scalars(query))
    return LedgerPage(
        customer_id=customer_id,
        items=[entry_public(row) for row in rows[:limit]],
        next_cursor=next_cursor([str(row.seq) for row in rows], limit),
    )


async def list_holds(
    tx: Transaction,
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
    total = await tx.session.scalar(select(func.count()).select_from(Hold).where(*condition))
    query = select(Hold).where(*condition)
    if after is not None:
        held_at, hold_id = _hold_key(after)
        query = query.where(
            or_(Hold.held_at > held_at, and_(Hold.held_at == held_at, Hold.id > hold_id))
        )
    query = query.order_by(Hold.held_at, Hold.id).limit(limit + 1)
    rows = list(await tx.session.scalars(query))
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
    return InvalidInput("query.cursor", "not a cursor returned by this API", location="query")


async def verify_ledger(tx: Transaction, customer_id: str) -> LedgerCheck:
    """The stored totals against the sums over the ledger, lots and pending holds."""
    row = await _require_account(tx, customer_id)
    points, kind = LedgerEntryRow.points, LedgerEntryRow.kind
    balance_sum = func.coalesce(func.sum(case((kind != "hold", points), else_=0)), 0)
    held_sum = func.coalesce(
        func.sum(case((kind == "hold", points), (kind == "release", -points), else_=0)), 0
    )
    session = tx.session
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


async def rulebook_in_force_public(tx: Transaction) -> RulebookPublic:
    return rulebook_public(await rulebook_version_in_force(tx))


async def rulebook_version_public(tx: Transaction, version: int) -> RulebookPublic:
    row = await rulebook_version(tx, version)
    if row is None:
        raise NotFound("rulebook version", str(version))
    return rulebook_public(row)


async def _require_account(tx: Transaction, customer_id: str) -> Account:
    row = await account_row(tx, customer_id, lock=False)
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
    return HoldPublic(
        hold_id=hold.id,
        customer_id=hold.customer_id,
        points=hold.points,
        original_points=hold.original_points,
        reason=hold.reason,
        source_id=hold.source_id,
        order_id=hold.order_id,
        rule_version=hold.rule_version,
        held_at=hold.held_at,
        status=cast(HoldStatus, hold.status),
        resolved_at=hold.resolved_at,
        resolved_by=hold.resolved_by,
    )


def rulebook_public(row: RulebookVersion) -> RulebookPublic:
    return RulebookPublic(
        version=row.version,
        published_at=row.published_at,
        published_by=row.published_by,
        rules=row.document,
    )
