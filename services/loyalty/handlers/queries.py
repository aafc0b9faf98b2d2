"""Reads: the points summary, the ledger, pending holds, and the ledger check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.domain import Lot, PointsAccount, Tier, TierProgress
from services.loyalty.domain.lots import points_expiring_within
from services.loyalty.handlers.common import known
from services.loyalty.models import Account, Hold, LedgerEntryRow
from services.loyalty.models import Lot as LotRow
from services.loyalty.rule_store import rules_in_force
from services.loyalty.store import account_row, load_account
from shared.errors import NotFound


@dataclass(frozen=True)
class PointsView:
    account: PointsAccount
    available: int
    tier_progress: TierProgress
    expiring: list[Lot]
    expiring_window_days: int
    as_of: datetime


async def points_view(session: AsyncSession, customer_id: str, now: datetime) -> PointsView:
    """The account as of `now`: lots past their expiry but not yet swept are not available."""
    rules = await rules_in_force(session)
    loaded = known(
        await load_account(session, customer_id, at=now, rules=rules, lock=False), customer_id
    )
    account = loaded.account
    window = timedelta(days=rules.expiring_soon_days)
    expiring = sorted(
        (lot for lot in account.lots if points_expiring_within([lot], now, window)),
        key=lambda lot: lot.expires_at,
    )
    return PointsView(
        account=account,
        available=account.available_at(now),
        tier_progress=account.tier_progress(now, rules),
        expiring=expiring,
        expiring_window_days=rules.expiring_soon_days,
        as_of=now,
    )


async def ledger_page(
    session: AsyncSession, customer_id: str, *, limit: int, before_seq: int | None
) -> tuple[list[LedgerEntryRow], int | None]:
    """Entries newest recorded first; the second value is the cursor of the next page."""
    await _require_account(session, customer_id)
    query = select(LedgerEntryRow).where(LedgerEntryRow.customer_id == customer_id)
    if before_seq is not None:
        query = query.where(LedgerEntryRow.seq < before_seq)
    rows = list(await session.scalars(query.order_by(LedgerEntryRow.seq.desc()).limit(limit + 1)))
    next_cursor = rows[limit - 1].seq if len(rows) > limit else None
    return rows[:limit], next_cursor


async def list_holds(
    session: AsyncSession, *, status: str, customer_id: str | None, limit: int, offset: int
) -> tuple[list[Hold], int]:
    condition = [Hold.status == status]
    if customer_id is not None:
        condition.append(Hold.customer_id == customer_id)
    total = await session.scalar(select(func.count()).select_from(Hold).where(*condition))
    query = select(Hold).where(*condition).order_by(Hold.held_at, Hold.id)
    rows = list(await session.scalars(query.limit(limit).offset(offset)))
    return rows, total or 0


@dataclass(frozen=True)
class LedgerCheck:
    customer_id: str
    balance: int
    balance_from_ledger: int
    held: int
    held_from_ledger: int
    pending_holds: int
    debt: int
    lots_remaining: int
    tier: Tier

    @property
    def consistent(self) -> bool:
        return (
            self.balance == self.balance_from_ledger
            and self.held == self.held_from_ledger == self.pending_holds
            and self.balance == self.lots_remaining - self.debt
            and (self.debt == 0 or self.lots_remaining == 0)
        )


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


async def _require_account(session: AsyncSession, customer_id: str) -> Account:
    row = await account_row(session, customer_id, lock=False)
    if row is None:
        raise NotFound("loyalty account", customer_id)
    return row
