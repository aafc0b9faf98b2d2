"""The profile rows a transaction has locked, read or added, so its events share them.

The consumer applies a run of events in one transaction. Without this, each event of a run
would lock and read its customer, facts and tags again, and every statement would first flush
the changes of the events before it: an UPDATE per row and event. The repository keeps here
what the transaction holds (``tx.held(RowsInHand)``), including rows added and not flushed yet
(which ``session.get`` cannot find), and every profile row a handler changes goes through here.
So nothing needs flushing before a statement: the consumer's transactions do not autoflush
(``Subscriptions(..., autoflush=False)``), and the commit writes a run's changes together (one
executemany per table and kind of change). Nothing here outlives its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.profile.models import Customer, CustomerFeatures, CustomerTag, TicketState


@dataclass(eq=False)
class RowsInHand:
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
