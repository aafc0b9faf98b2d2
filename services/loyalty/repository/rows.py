"""Stored rows to rule values and back; money crosses as fen (integer hundredths of a yuan).

Rows are read and written with SQLAlchemy Core: a row read is a `Row` (attribute access), a
row to write a plain dict of column values.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table

from services.loyalty import models
from services.loyalty.rules.caps import Hold
from services.loyalty.rules.ledger import EntryReason, LedgerEntry, Totals
from services.loyalty.rules.lots import Lot
from services.loyalty.rules.orders import OrderRecord
from shared.money import to_fen, to_yuan

ACCOUNTS = cast(Table, models.Account.__table__)
LEDGER = cast(Table, models.LedgerEntryRow.__table__)
LOTS = cast(Table, models.Lot.__table__)
HOLDS = cast(Table, models.Hold.__table__)
ORDERS = cast(Table, models.Order.__table__)
ORDER_REFUNDS = cast(Table, models.OrderRefund.__table__)
CLAIMED = cast(Table, models.ClaimedReward.__table__)
DAYS = cast(Table, models.DailyEarning.__table__)
MONTHS = cast(Table, models.MonthlySpend.__table__)

Values = dict[str, Any]


def new_public_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def lot_of(row: Any) -> Lot:
    return Lot(row.lot_id, row.points, row.remaining, row.earned_at, row.expires_at)


def lot_values(customer_id: str, lot: Lot) -> Values:
    return {
        "customer_id": customer_id,
        "lot_id": lot.lot_id,
        "points": lot.points,
        "remaining": lot.remaining,
        "earned_at": lot.earned_at,
        "expires_at": lot.expires_at,
    }


def hold_of(row: Mapping[str, Any]) -> Hold:
    return Hold(
        hold_id=row["hold_key"],
        points=row["points"],
        held_at=row["held_at"],
        reason=EntryReason(row["reason"]),
        source_id=row["source_id"],
        order_id=row["order_id"],
        rule_version=row["rule_version"],
    )


def new_hold_values(customer_id: str, hold: Hold) -> Values:
    """The row of a hold the rules just made, under a new public id."""
    return {
        "id": new_public_id("hold"),
        "customer_id": customer_id,
        "hold_key": hold.hold_id,
        "points": hold.points,
        "original_points": hold.points,
        "reason": str(hold.reason),
        "source_id": hold.source_id,
        "order_id": hold.order_id,
        "rule_version": hold.rule_version,
        "held_at": hold.held_at,
        "status": "pending",
        "resolved_at": None,
        "resolved_by": None,
    }


def order_record_of(row: Mapping[str, Any], refund_source_ids: frozenset[str]) -> OrderRecord:
    amount_fen = row["amount_fen"]
    return OrderRecord(
        order_id=row["order_id"],
        amount=None if amount_fen is None else to_yuan(amount_fen),
        placed_at=row["placed_at"],
        points_awarded=row["points_awarded"],
        refunded_amount=to_yuan(row["refunded_fen"]),
        points_clawed_back=row["points_clawed_back"],
        last_refund_at=row["last_refund_at"],
        refund_source_ids=set(refund_source_ids),
    )


def order_values(customer_id: str, record: OrderRecord) -> Values:
    return {
        "customer_id": customer_id,
        "order_id": record.order_id,
        "amount_fen": None if record.amount is None else to_fen(record.amount),
        "placed_at": record.placed_at,
        "points_awarded": record.points_awarded,
        "refunded_fen": to_fen(record.refunded_amount),
        "points_clawed_back": record.points_clawed_back,
        "last_refund_at": record.last_refund_at,
    }


def entry_values(
    entry: LedgerEntry, after: Totals, hold_ids: Mapping[str, str], recorded_at: datetime
) -> Values:
    """The row of one entry with the totals right after it; `hold_ids` maps the rules' hold
    keys to the public ids."""
    new_lot = entry.new_lot
    return {
        "entry_id": f"le-{uuid.uuid4().hex}",
        "customer_id": entry.customer_id,
        "kind": str(entry.kind),
        "reason": str(entry.reason),
        "points": entry.points,
        "balance_after": after.balance,
        "held_after": after.held,
        "source_id": entry.source_id,
        "rule_version": entry.rule_version,
        "business_time": entry.business_time,
        "recorded_at": recorded_at,
        "order_id": entry.order_id,
        "hold_id": hold_ids.get(entry.hold_id) if entry.hold_id else None,
        "lot_id": new_lot.lot_id if new_lot else None,
        "lot_expires_at": new_lot.expires_at if new_lot else None,
        "debt_repaid": entry.debt_repaid,
        "allocations": [
            {"lot_id": allocation.lot_id, "points": allocation.points}
            for allocation in entry.allocations
        ],
        "note": entry.note,
    }
