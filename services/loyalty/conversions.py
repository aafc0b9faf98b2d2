"""Rows to domain values and back; money crosses as fen (integer hundredths of a yuan)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from services.loyalty import models
from services.loyalty.domain import EntryReason, Hold, Lot, OrderRecord, PointsAccount, Tier

_FEN_PER_YUAN = Decimal(100)


def yuan_to_fen(amount: Decimal) -> int:
    fen = amount * _FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} yuan has more than two decimal places")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)


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
        amount=None if row.amount_fen is None else fen_to_yuan(row.amount_fen),
        placed_at=row.placed_at,
        points_awarded=row.points_awarded,
        refunded_amount=fen_to_yuan(row.refunded_fen),
        points_clawed_back=row.points_clawed_back,
        last_refund_at=row.last_refund_at,
        refund_source_ids=set(refund_source_ids),
    )


def update_order_row(row: models.Order, record: OrderRecord) -> None:
    row.amount_fen = None if record.amount is None else yuan_to_fen(record.amount)
    row.placed_at = record.placed_at
    row.points_awarded = record.points_awarded
    row.refunded_fen = yuan_to_fen(record.refunded_amount)
    row.points_clawed_back = record.points_clawed_back
    row.last_refund_at = record.last_refund_at
