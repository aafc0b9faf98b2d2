"""Ledger entries as rows: each carries the balance and held points right after it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from services.loyalty.domain import EntryKind, EntryReason, LedgerEntry
from services.loyalty.models import LedgerEntryRow


def entry_rows(
    entries: Sequence[LedgerEntry],
    balance_before: int,
    held_before: int,
    hold_ids: Mapping[str, str],
    recorded_at: datetime,
) -> list[LedgerEntryRow]:
    """Rows for `entries` in order; `hold_ids` maps the domain's hold keys to public ids."""
    balance, held = balance_before, held_before
    rows = []
    for entry in entries:
        if entry.kind is EntryKind.HOLD:
            held += entry.points
        else:
            balance += entry.points
        if entry.kind is EntryKind.RELEASE:
            held -= entry.points
        new_lot = entry.new_lot
        rows.append(
            LedgerEntryRow(
                entry_id=f"le-{uuid.uuid4().hex}",
                customer_id=entry.customer_id,
                kind=str(entry.kind),
                reason=str(entry.reason),
                points=entry.points,
                balance_after=balance,
                held_after=held,
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
        )
    return rows


def hold_outcome(hold_key: str, entries: Sequence[LedgerEntry]) -> tuple[str, int]:
    """How a hold that is no longer pending was settled, and the points it settled with."""
    for entry in reversed(entries):
        if entry.hold_id != hold_key:
            continue
        if entry.kind is EntryKind.RELEASE:
            return "released", entry.points
        if entry.reason is EntryReason.HOLD_CANCELLED:
            return "cancelled", -entry.points
        if entry.reason is EntryReason.REFUND:
            return "refunded", 0
    raise RuntimeError(f"hold {hold_key!r} left the account without a ledger entry")
