"""Recording what an operation changed, in the caller's transaction: the new ledger entries,
appended with the totals after each; every derived row brought in step with the account; and
the events the rules announce for them, published through the transaction's outbox.

Nothing is flushed here: the rows in hand are the state, and the transaction's flush at commit
writes the changes of every operation in it together (`in_hand`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty import models
from services.loyalty.repository.accounts import LoadedAccount
from services.loyalty.repository.rows import entry_row, new_public_id, update_order_row
from services.loyalty.rules.announcements import announcements
from services.loyalty.rules.caps import hold_settlement
from services.loyalty.rules.ledger import LedgerEntry, Totals, totals_after_each
from services.loyalty.rules.rulebook import Rulebook
from services.loyalty.rules.tiers import TierChange
from shared.transaction import Transaction


async def record_changes(
    tx: Transaction,
    loaded: LoadedAccount,
    entries: Sequence[LedgerEntry],
    rulebook: Rulebook,
    *,
    tier_change: TierChange | None = None,
    resolved_by: str | None = None,
) -> None:
    """Append `entries`, bring the derived rows in step with the account and publish what
    the rules announce for them (and for `tier_change`)."""
    session, now = tx.session, tx.now
    totals = totals_after_each(entries, Totals(loaded.row.balance, loaded.row.held))
    _save_holds(session, loaded, entries, now, resolved_by)
    hold_ids = {key: hold.id for key, hold in loaded.rows.holds.items()}
    session.add_all(
        entry_row(entry, after, hold_ids, now) for entry, after in zip(entries, totals, strict=True)
    )
    _save_lots(session, loaded)
    _save_orders(session, loaded, now)
    _save_claims_and_days(session, loaded, now)
    account, row = loaded.account, loaded.row
    row.balance, row.held, row.debt = account.balance, account.held, account.debt
    row.tier, row.orders_placed = str(account.tier), account.orders_placed
    row.birthday, row.referrer_id = account.birthday, account.referrer_id
    row.updated_at = now
    found = announcements(entries, totals, rulebook, tier_change, customer_id=loaded.customer_id)
    for announcement in found:
        await tx.outbox.publish(announcement.data, time=announcement.time)


def _save_lots(session: AsyncSession, loaded: LoadedAccount) -> None:
    lot_rows = loaded.rows.lots
    for lot in loaded.account.lots:
        lot_row = lot_rows.get(lot.lot_id)
        if lot_row is None:
            lot_row = models.Lot(
                customer_id=loaded.customer_id,
                lot_id=lot.lot_id,
                points=lot.points,
                earned_at=lot.earned_at,
                expires_at=lot.expires_at,
            )
            session.add(lot_row)
            lot_rows[lot.lot_id] = lot_row
        lot_row.remaining = lot.remaining


def _save_claims_and_days(session: AsyncSession, loaded: LoadedAccount, now: datetime) -> None:
    account, rows, customer_id = loaded.account, loaded.rows, loaded.customer_id
    for key in sorted(account.claimed_keys - rows.claimed_keys):
        session.add(models.ClaimedReward(customer_id=customer_id, reward_key=key, claimed_at=now))
        rows.reward_keys[key] = True
    for day, points in account.earned_by_day.items():
        day_row = rows.days.get(day)
        if day_row is None and points:
            day_row = models.DailyEarning(customer_id=customer_id, business_day=day, points=0)
            session.add(day_row)
            rows.days[day] = day_row
        if day_row is not None:
            day_row.points = points


def _save_holds(
    session: AsyncSession,
    loaded: LoadedAccount,
    entries: Sequence[LedgerEntry],
    now: datetime,
    resolved_by: str | None,
) -> None:
    holds, hold_rows = loaded.account.holds, loaded.rows.holds
    for key, hold_row in hold_rows.items():
        if hold_row.status != "pending":
            continue
        if key in holds:
            hold_row.points = holds[key].points
            continue
        status, points_left = hold_settlement(key, entries)
        hold_row.status, hold_row.points = status, points_left
        hold_row.resolved_at, hold_row.resolved_by = now, resolved_by
    for key, hold in holds.items():
        if key in hold_rows:
            continue
        hold_row = models.Hold(
            id=new_public_id("hold"),
            customer_id=loaded.customer_id,
            hold_key=key,
            points=hold.points,
            original_points=hold.points,
            reason=str(hold.reason),
            source_id=hold.source_id,
            order_id=hold.order_id,
            rule_version=hold.rule_version,
            held_at=hold.held_at,
            status="pending",
        )
        session.add(hold_row)
        hold_rows[key] = hold_row


def _save_orders(session: AsyncSession, loaded: LoadedAccount, now: datetime) -> None:
    rows, customer_id = loaded.rows, loaded.customer_id
    for order_id, record in loaded.account.orders.items():
        order_row = rows.orders.get(order_id)
        if order_row is None:
            order_row = models.Order(customer_id=customer_id, order_id=order_id)
            session.add(order_row)
            rows.orders[order_id] = order_row
        update_order_row(order_row, record)
        # Only an order the operation named can have new refunds, and its refunds are in hand.
        new_sources = record.refund_source_ids - rows.refund_sources.get(order_id, set())
        for source_id in sorted(new_sources):
            session.add(
                models.OrderRefund(
                    customer_id=customer_id,
                    order_id=order_id,
                    source_id=source_id,
                    recorded_at=now,
                )
            )
        if new_sources:
            rows.refund_sources[order_id] |= new_sources
