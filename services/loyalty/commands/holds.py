"""An admin's review of points held over the daily cap: release them or cancel them."""

from __future__ import annotations

from services.loyalty.queries import hold_public_of
from services.loyalty.repository.accounts import Wanted, load_accounts
from services.loyalty.repository.holds import hold_by_id
from services.loyalty.repository.ledger import record_changes
from services.loyalty.repository.rows import new_public_id
from services.loyalty.repository.rulebook import rulebook_in_force
from services.loyalty.repository.saving import save_accounts
from services.loyalty.rules.book import Origin
from services.loyalty.schemas import HoldPublic
from shared.errors import Conflict, NotFound
from shared.transaction import Transaction


async def settle_hold(tx: Transaction, hold_id: str, *, release: bool, admin: str) -> HoldPublic:
    """Release (credit in full, past the cap) or cancel a pending hold; 409 once settled."""
    hold = await hold_by_id(tx.session, hold_id)
    if hold is None:
        raise NotFound("hold", hold_id)
    rulebook = await rulebook_in_force(tx)
    wanted = Wanted(order_ids={hold.order_id} if hold.order_id else set())
    accounts = await load_accounts(tx, rulebook, {hold.customer_id: wanted})
    loaded = accounts.stored(hold.customer_id)
    assert loaded is not None
    # The account is locked now: its pending holds are as they stand.
    if hold.hold_key not in loaded.account.holds:
        status = (await hold_by_id(tx.session, hold_id)).status
        raise Conflict("hold_not_pending", f"Hold {hold_id!r} is already {status}.", status=status)
    origin = Origin(new_public_id("release" if release else "cancel"), tx.now, rulebook)
    account = loaded.account
    if release:
        entries = account.release_hold(hold.hold_key, origin)
    else:
        entries = account.cancel_hold(hold.hold_key, origin)
    await record_changes(tx, accounts, loaded, entries, resolved_by=admin)
    await save_accounts(tx, accounts)
    return hold_public_of(loaded.hold_rows[hold.hold_key])
