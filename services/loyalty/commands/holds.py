"""An admin's review of points held over the daily cap: release them or cancel them."""

from __future__ import annotations

from services.loyalty.models import Hold
from services.loyalty.queries import hold_public
from services.loyalty.repository.accounts import load_account
from services.loyalty.repository.ledger import record_changes
from services.loyalty.repository.rows import new_public_id
from services.loyalty.repository.rulebook import rulebook_in_force
from services.loyalty.rules.book import Origin
from services.loyalty.schemas import HoldPublic
from shared.errors import Conflict, NotFound
from shared.transaction import Transaction


async def settle_hold(tx: Transaction, hold_id: str, *, release: bool, admin: str) -> HoldPublic:
    """Release (credit in full, past the cap) or cancel a pending hold; 409 once settled."""
    hold = await tx.session.get(Hold, hold_id)
    if hold is None:
        raise NotFound("hold", hold_id)
    rulebook = await rulebook_in_force(tx)
    order_ids = [hold.order_id] if hold.order_id else []
    loaded = await load_account(
        tx, hold.customer_id, at=tx.now, rulebook=rulebook, order_ids=order_ids
    )
    assert loaded is not None
    await tx.session.refresh(hold)  # as it stands now that the account is locked
    if hold.status != "pending":
        raise Conflict(
            "hold_not_pending", f"Hold {hold_id!r} is already {hold.status}.", status=hold.status
        )
    origin = Origin(new_public_id("release" if release else "cancel"), tx.now, rulebook)
    account = loaded.account
    if release:
        entries = account.release_hold(hold.hold_key, origin)
    else:
        entries = account.cancel_hold(hold.hold_key, origin)
    await record_changes(tx, loaded, entries, rulebook, resolved_by=admin)
    return hold_public(hold)
