"""What every handler does after the domain decided: save, then announce."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime

from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty.domain import LedgerEntry, LoyaltyError, LoyaltyRules, TierChange
from services.loyalty.models import LedgerEntryRow
from services.loyalty.outgoing import announce_entries, announce_tier_change
from services.loyalty.saving import save_account
from services.loyalty.store import LoadedAccount
from shared.errors import NotFound
from shared.messaging.errors import EventRejected


async def commit_changes(
    session: AsyncSession,
    loaded: LoadedAccount,
    entries: Sequence[LedgerEntry],
    rules: LoyaltyRules,
    *,
    now: datetime,
    tier_change: TierChange | None = None,
    resolved_by: str | None = None,
) -> list[LedgerEntryRow]:
    """Persist the account after an operation and write the events it gives rise to."""
    rows = save_account(session, loaded, entries, now=now, resolved_by=resolved_by)
    # The outbox rows need nothing of the saved ones from the database: leave those to the
    # transaction's next flush (`transaction_memo`).
    with session.no_autoflush:
        await announce_entries(session, rows, rules, now)
        if tier_change is not None:
            await announce_tier_change(session, loaded.customer_id, tier_change, now)
    return rows


def known(loaded: LoadedAccount | None, customer_id: str) -> LoadedAccount:
    """The account, or 404: a customer loyalty has never heard of from events is unknown."""
    if loaded is None:
        raise NotFound("loyalty account", customer_id)
    return loaded


@contextlib.contextmanager
def rejected_by_rules() -> Iterator[None]:
    """An event the domain refuses can never be applied: dead-letter it, with the reason."""
    try:
        yield
    except LoyaltyError as exc:
        raise EventRejected("rejected_by_rules", str(exc)) from exc


def invalid_input(message: str, *fields: str, location: str = "body") -> RequestValidationError:
    """A 422 naming the fields, in the shape of every other validation error."""
    return RequestValidationError(
        [{"loc": (location, field), "msg": message, "type": "value_error"} for field in fields]
    )
