"""What the current transaction already holds, so a later operation in it need not read it again.

The consumer applies a run of consecutive events in one transaction. An account row, once
locked, stays locked until that transaction ends, and every change to the customer's rows in
it goes through the rows in hand (`AccountRows`): they are the customer's state as the database
will have it at commit, and what they hold is not read again. Both kinds below are held by the
transaction (`tx.held(AccountsInHand)`), so the next transaction starts with empty ones and
nothing is served across transactions. Loyalty uses no savepoints (a rolled back savepoint
would leave the rows in hand out of step).

Operations do not flush: their writes go with the transaction's flush at commit (the consumer's
transactions do not autoflush), so the operations of a run write together (an order and its
referrer's bonus, the accounts of a periodic task). Loads read without autoflush, which is safe
because the only unflushed changes of a customer are in its rows in hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from services.loyalty import models
from services.loyalty.rules.rulebook import Rulebook


@dataclass
class AccountRows:
    """One customer's rows this transaction has read or written, the account row locked.

    Once `book_loaded`, `lots` holds every lot with points left and `holds` every pending hold
    (with the lots spent and the holds settled since). `orders` holds the orders loaded or
    written; `refund_sources` the refunds of an order once all of them are known; `reward_keys`
    whether each key looked up or claimed is claimed; `days` each business day looked up or
    written, None when it has no row.
    """

    row: models.Account
    book_loaded: bool = False
    lots: dict[str, models.Lot] = field(default_factory=dict)
    holds: dict[str, models.Hold] = field(default_factory=dict)
    orders: dict[str, models.Order] = field(default_factory=dict)
    refund_sources: dict[str, set[str]] = field(default_factory=dict)
    reward_keys: dict[str, bool] = field(default_factory=dict)
    days: dict[date, models.DailyEarning | None] = field(default_factory=dict)

    @property
    def customer_id(self) -> str:
        return self.row.customer_id

    @property
    def claimed_keys(self) -> set[str]:
        return {key for key, claimed in self.reward_keys.items() if claimed}


@dataclass
class AccountsInHand:
    """The locked accounts of one transaction, by customer id."""

    accounts: dict[str, AccountRows] = field(default_factory=dict)


@dataclass
class RulebookInHand:
    """The rulebook in force as this transaction read it: every event of a run is handled
    under the same rulebook; None until read, and again once a new version is published."""

    rulebook: Rulebook | None = None
