"""An admin's review of points held over the daily cap: release them or cancel them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.domain import Origin
from services.loyalty.handlers.common import commit_changes
from services.loyalty.models import Hold
from services.loyalty.rule_store import rules_in_force
from services.loyalty.store import load_account, new_public_id
from shared.errors import Conflict, NotFound


async def settle_hold(
    session: AsyncSession, hold_id: str, *, release: bool, now: datetime, admin: str
) -> Hold:
    """Release (credit in full, past the cap) or cancel a pending hold; 409 once settled."""
    hold = await session.get(Hold, hold_id)
    if hold is None:
        raise NotFound("hold", hold_id)
    rules = await rules_in_force(session)
    order_ids = [hold.order_id] if hold.order_id else []
    loaded = await load_account(session, hold.customer_id, at=now, rules=rules, order_ids=order_ids)
    assert loaded is not None
    await session.refresh(hold)  # as it stands now that the account is locked
    if hold.status != "pending":
        raise Conflict(
            "hold_not_pending", f"Hold {hold_id!r} is already {hold.status}.", status=hold.status
        )
    origin = Origin(new_public_id("release" if release else "cancel"), now, rules)
    account = loaded.account
    if release:
        entries = account.release_hold(hold.hold_key, origin)
    else:
        entries = account.cancel_hold(hold.hold_key, origin)
    await commit_changes(session, loaded, entries, rules, now=now, resolved_by=admin)
    return hold
