"""The profile rows the current transaction has locked, read or added, so its events share them.

The consumer applies a run of events in one transaction. Without this, each event of a run
would lock and read its customer, facts and tags again, and every statement would first flush
the changes of the events before it (autoflush): an UPDATE per row and event. The store keeps
here what the transaction holds, including rows added and not flushed yet (which
``session.get`` cannot find), and every profile row a handler changes goes through here. So
nothing needs flushing before a statement: from the first row taken into hand until the
transaction ends, the session does not autoflush, and the commit writes a run's changes
together (one executemany per table and kind of change).

Nothing here outlives its transaction: a new transaction, or a savepoint (begun after a flush),
starts with nothing in hand, so no row is ever served from before the transaction's own locks.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from services.profile.models import Customer, CustomerFeatures, CustomerTag, TicketState

_ROWS_KEY = "profile.transaction_rows"
_AUTOFLUSH_DEFERRED_KEY = "profile.autoflush_deferred"


@dataclass(eq=False)
class TransactionRows:
    transaction: weakref.ref[SessionTransaction]
    # Customers locked (or created) in this transaction.
    customers: dict[str, Customer] = field(default_factory=dict)
    # A customer's facts row; None: the customer has none yet.
    features: dict[str, CustomerFeatures | None] = field(default_factory=dict)
    # A customer's tags by name: the row if this transaction added it, None if stored before.
    tags: dict[str, dict[str, CustomerTag | None]] = field(default_factory=dict)
    # Tickets by id; None: looked up and not found.
    tickets: dict[str, TicketState | None] = field(default_factory=dict)

    def forget_profiling(self, customer_id: str) -> None:
        """After a bulk delete of the customer's facts and tags: read them again if needed."""
        self.features.pop(customer_id, None)
        self.tags.pop(customer_id, None)


def transaction_rows(session: AsyncSession) -> TransactionRows:
    """What the session's current transaction holds; begins the transaction if none has."""
    current = _current_transaction(session.sync_session)
    held = session.info.get(_ROWS_KEY)
    if not isinstance(held, TransactionRows) or held.transaction() is not current:
        held = TransactionRows(weakref.ref(current))
        session.info[_ROWS_KEY] = held
        _defer_flushes_to_commit(session.sync_session)
    return held


def _current_transaction(session: Session) -> SessionTransaction:
    current = session.get_nested_transaction() or session.get_transaction()
    # Beginning is what the session's first statement would do anyway (autobegin).
    return current if current is not None else session.begin()


def _defer_flushes_to_commit(session: Session) -> None:
    """No autoflush until the transaction ends; the session's own setting then returns."""
    if not session.autoflush:
        return
    session.autoflush = False
    session.info[_AUTOFLUSH_DEFERRED_KEY] = True
    if not event.contains(session, "after_transaction_end", _restore_autoflush):
        event.listen(session, "after_transaction_end", _restore_autoflush)


def _restore_autoflush(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop(_AUTOFLUSH_DEFERRED_KEY, False):
        session.autoflush = True
