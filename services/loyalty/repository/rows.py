"""Rows to rule values and back; money crosses as fen (integer hundredths of a yuan)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from services.loyalty import models
from services.loyalty.rules.account import PointsAccount
from services.loyalty.rules.caps import Hold
from services.loyalty.rules.ledger import EntryReason, LedgerEntry, Totals
from services.loyalty.rules.lots import Lot
from services.loyalty.rules.orders import OrderRecord
from services.loyalty.rules.rulebook import Tier
from shared.money import to_fen, to_yuan


def new_public_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def account_of(
    row: models.Account,
    *,
    lots: list[Lot],
    holds: Iterable[Hold],
    orders: Iterable[OrderRecord],
    claimed_keys: set[str],
    earned_by_day: dict[date, int],
) -> PointsAccount:
    return PointsAccount(
        customer_id=row.customer_id,
        balance=row.balance,
        lots=lots,
        holds={hold.hold_id: hold for hold in holds},
        earned_by_day=earned_by_day,
        tier=Tier(row.tier),
        birthday=row.birthday,
        referrer_id=row.referrer_id,
        orders_placed=row.orders_placed,
        orders={order.order_id: order for order in orders},
        claimed_keys=set(claimed_keys),
    )


def lot_of(row: models.Lot) -> Lot:
    return Lot(row.lot_id, row.points, row.remaining, row.earned_at, row.expires_at)


def hold_of(row: models.Hold) -> Hold:
    return Hold(
        hold_id=row.hold_key,
        points=row.points,
        held_at=row.held_at,
        reason=EntryReason(row.reason),
        source_id=row.source_id,
        order_id=row.order_id,
        rule_version=row.rule_version,
    )


def order_of(row: models.Order, refund_source_ids: set[str]) -> OrderRecord:
    return OrderRecord(
        order_id=row.order_id,
        amount=None if row.amount_fen is None else to_yuan(row.amount_fen),
        placed_at=row.placed_at,
        points_awarded=row.points_awarded,
        refunded_amount=to_yuan(row.refunded_fen),
        points_clawed_back=row.points_clawed_back,
        last_refund_at=row.last_refund_at,
        refund_source_ids=set(refund_source_ids),
    )


def update_order_row(row: models.Order, record: OrderRecord) -> None:
    row.amount_fen = None if record.amount is None else to_fen(record.amount)
    row.placed_at = record.placed_at
    row.points_awarded = record.points_awarded
    row.refunded_fen = to_fen(record.refunded_amount)
    row.points_clawed_back = record.points_clawed_back
    row.last_refund_at = record.last_refund_at


def entry_row(
    entry: LedgerEntry, after: Totals, hold_ids: Mapping[str, str], recorded_at: datetime
) -> models.LedgerEntryRow:
    """The row of one entry with the totals right after it; `hold_ids` maps the rules' hold
    keys to the public ids."""
    new_lot = entry.new_lot
    return models.LedgerEntryRow(
        entry_id=f"le-{uuid.uuid4().hex}",
        customer_id=entry.customer_id,
        kind=str(entry.kind),
        reason=str(entry.reason),
        points=entry.points,
        balance_after=after.balance,
        held_after=after.held,
        source_id=entry.source_id,
        rule_version=entry.rule_version,
        business_time=entry.business_time,
        recorded_at=recorded_at,
        order_id=entry.order_id,
        hold_id=hold_ids.get(entry.hold_id) if entry.hold_id else None,
        lot_id=new_lot.lot_id if new_lot else None,
        lot_expires_at=new_lot.expires_at if new_lot else None,
        debt_repaid=entry.debt_repaid,
        allocations=[
            {"lot_id": allocation.lot_id, "points": allocation.points}
            for allocation in entry.allocations
        ],
        note=entry.note,
    )
