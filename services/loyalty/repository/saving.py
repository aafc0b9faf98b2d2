"""Writing what a unit of work changed, one statement per table for the whole set of accounts.

Accounts opened are inserted and the others touched updated (`update_by_key`); the recorded
ledger entries are inserted in the order they were recorded (the ledger only ever takes
inserts); lots, holds, orders and the days' credited earns are upserted; refunds and claimed
keys are inserted; each business month's spend is added to in place. Only what differs from
what was loaded is written. Call it once, at the end of the unit of work.

Each statement is executed once with all its rows (`shared.bulk`).
"""

from __future__ import annotations

from datetime import datetime

from services.loyalty.repository.accounts import Accounts, LoadedAccount
from services.loyalty.repository.rows import (
    ACCOUNTS,
    CLAIMED,
    DAYS,
    HOLDS,
    LEDGER,
    LOTS,
    MONTHS,
    ORDER_REFUNDS,
    ORDERS,
    Values,
    lot_values,
    order_values,
)
from shared import bulk
from shared.money import to_fen
from shared.transaction import Transaction


class AccountOpenedMeanwhile(RuntimeError):
    """Another transaction opened an account this one found missing: redo the work (the
    kit retries the run, then each event), and it will find the account."""


async def save_accounts(tx: Transaction, accounts: Accounts) -> None:
    session, now = tx.session, tx.now
    changed = _Changes()
    for loaded in accounts:
        if loaded.touched and loaded.with_book:
            changed.collect(loaded, now)
    opened = [_opened_values(a, now) for a in accounts if a.opened_at is not None]
    if opened:
        inserted = await bulk.insert_new(session, ACCOUNTS, opened, returning=("customer_id",))
        missing = sorted({values["customer_id"] for values in opened} - {c for (c,) in inserted})
        if missing:
            raise AccountOpenedMeanwhile(f"accounts opened meanwhile: {missing[:5]}")
    updated = [_account_values(a, now) for a in accounts if a.is_stored and a.touched]
    await bulk.update_by_key(session, ACCOUNTS, updated, key=["customer_id"])
    await bulk.insert_rows(session, LEDGER, accounts.ledger_rows)
    accounts.ledger_rows = []
    await bulk.upsert(
        session, LOTS, changed.lots, key=["customer_id", "lot_id"], update_columns=["remaining"]
    )
    await bulk.upsert(
        session,
        HOLDS,
        changed.holds,
        key=["id"],
        update_columns=["points", "status", "resolved_at", "resolved_by"],
    )
    await bulk.upsert(session, ORDERS, changed.orders, key=["customer_id", "order_id"])
    await bulk.insert_rows(session, ORDER_REFUNDS, changed.refunds)
    await bulk.insert_rows(session, CLAIMED, changed.claims)
    await bulk.upsert(session, DAYS, changed.days, key=["customer_id", "business_day"])
    await bulk.upsert(
        session,
        MONTHS,
        changed.months,
        key=["customer_id", "business_month"],
        add_columns=["net_spend_fen"],
    )


class _Changes:
    """The rows that differ from what was loaded, by table."""

    def __init__(self) -> None:
        self.lots: list[Values] = []
        self.holds: list[Values] = []
        self.orders: list[Values] = []
        self.refunds: list[Values] = []
        self.claims: list[Values] = []
        self.days: list[Values] = []
        self.months: list[Values] = []

    def collect(self, loaded: LoadedAccount, now: datetime) -> None:
        account, stored, customer_id = loaded.account, loaded.stored, loaded.customer_id
        for lot in account.lots:
            before = stored.lots.get(lot.lot_id)
            if before is None or before.remaining != lot.remaining:
                self.lots.append(lot_values(customer_id, lot))
        self.holds += (loaded.hold_rows[key] for key in sorted(loaded.changed_holds))
        for order_id, record in account.orders.items():
            values = order_values(customer_id, record)
            if stored.orders.get(order_id) != values:
                self.orders.append(values)
            known = stored.refund_sources.get(order_id, frozenset())
            self.refunds += (
                {
                    "customer_id": customer_id,
                    "order_id": order_id,
                    "source_id": source_id,
                    "recorded_at": now,
                }
                for source_id in sorted(record.refund_source_ids - known)
            )
        self.claims += (
            {"customer_id": customer_id, "reward_key": key, "claimed_at": now}
            for key in sorted(account.claimed_keys - stored.claimed)
        )
        for day, points in account.earned_by_day.items():
            if points != stored.days.get(day, 0):
                self.days.append(
                    {"customer_id": customer_id, "business_day": day, "points": points}
                )
        for month, spend in account.spend_by_month.items():
            added = to_fen(spend) - stored.months.get(month, 0)
            if added:
                self.months.append(
                    {"customer_id": customer_id, "business_month": month, "net_spend_fen": added}
                )


def _account_values(loaded: LoadedAccount, now: datetime) -> Values:
    account, row = loaded.account, loaded.stored.row
    book = account if loaded.with_book or row is None else None
    return {
        "customer_id": loaded.customer_id,
        "balance": book.balance if book else row.balance,
        "held": book.held if book else row.held,
        "debt": book.debt if book else row.debt,
        "tier": str(book.tier) if book else row.tier,
        "orders_placed": book.orders_placed if book else row.orders_placed,
        "birthday": account.birthday,
        "referrer_id": account.referrer_id,
        "tier_reviewed_month": loaded.reviewed_month,
        "erased_at": loaded.erased_at,
        "updated_at": now,
    }


def _opened_values(loaded: LoadedAccount, now: datetime) -> Values:
    assert loaded.opened_at is not None
    values = _account_values(loaded, now)
    values["created_at"] = loaded.opened_at
    values["updated_at"] = now if loaded.touched else loaded.opened_at
    return values
