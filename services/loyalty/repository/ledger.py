"""Recording what an operation decided, in the order operations happen: its ledger entries
with the totals after each, the holds it made or settled, and the events the rules announce
for them, published through the transaction's outbox. Nothing is written here: the unit of
work writes every recorded change together (`saving.save_accounts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.loyalty.repository.accounts import Accounts, LoadedAccount
from services.loyalty.repository.rows import entry_values, new_hold_values
from services.loyalty.rules.announcements import announcements
from services.loyalty.rules.caps import hold_settlement
from services.loyalty.rules.ledger import LedgerEntry, totals_after_each
from services.loyalty.rules.tiers import TierChange
from shared.transaction import Transaction


async def record_changes(
    tx: Transaction,
    accounts: Accounts,
    loaded: LoadedAccount,
    entries: Sequence[LedgerEntry],
    *,
    tier_change: TierChange | None = None,
    resolved_by: str | None = None,
) -> None:
    """Keep `entries` (appended in this order at the save), bring the holds in step with the
    account and publish what the rules announce for them (and for `tier_change`)."""
    if not loaded.with_book:
        raise RuntimeError(f"account {loaded.customer_id!r} was loaded without its book")
    now = tx.now
    totals = totals_after_each(entries, loaded.totals)
    if totals:
        loaded.totals = totals[-1]
    _track_holds(loaded, entries, now, resolved_by)
    hold_ids = {key: values["id"] for key, values in loaded.hold_rows.items()}
    accounts.ledger_rows.extend(
        entry_values(entry, after, hold_ids, now)
        for entry, after in zip(entries, totals, strict=True)
    )
    loaded.touched = True
    found = announcements(
        entries, totals, accounts.rulebook, tier_change, customer_id=loaded.customer_id
    )
    for announcement in found:
        await tx.outbox.publish(announcement.data, time=announcement.time)


def _track_holds(
    loaded: LoadedAccount,
    entries: Sequence[LedgerEntry],
    now: datetime,
    resolved_by: str | None,
) -> None:
    """Holds still pending take the account's points; a hold no longer pending is settled as
    `entries` say; a new hold gets a row (and its public id) now."""
    holds, hold_rows = loaded.account.holds, loaded.hold_rows
    for key, values in hold_rows.items():
        if values["status"] != "pending":
            continue
        if key in holds:
            if values["points"] != holds[key].points:
                values["points"] = holds[key].points
                loaded.changed_holds.add(key)
            continue
        status, points_left = hold_settlement(key, entries)
        values.update(status=status, points=points_left, resolved_at=now, resolved_by=resolved_by)
        loaded.changed_holds.add(key)
    for key, hold in holds.items():
        if key not in hold_rows:
            hold_rows[key] = new_hold_values(loaded.customer_id, hold)
            loaded.changed_holds.add(key)
