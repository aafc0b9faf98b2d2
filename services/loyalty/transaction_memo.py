"""What the current transaction already holds, so a later operation in it need not read it again.

The consumer applies a run of consecutive events in one transaction. An account row, once
locked, stays locked until that transaction ends, and every change to the customer's rows in
it goes through the rows in hand (`AccountRows`): they are the customer's state as the database
will have it at commit, and what they hold is not read again. The memo belongs to one
transaction; the next transaction starts with an empty one, so nothing is served across them.
Loyalty uses no savepoints (a rolled back savepoint would leave the memo out of step).

Operations do not flush: their writes go with the transaction's next flush (the next Core
statement, such as the consumer's inbox row for the next event, or the commit), so operations
with no statement between them write together (an order and its referrer's bonus, the accounts
of a periodic task). Loads therefore read without autoflush, which is safe because the only
unflushed changes of a customer are in its rows in hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.loyalty import models
from services.loyalty.domain import LoyaltyRules

_INFO_KEY = "loyalty.transaction_memo"


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
class TransactionMemo:
    rules: LoyaltyRules | None = None
    accounts: dict[str, AccountRows] = field(default_factory=dict)


async def transaction_memo(session: AsyncSession) -> TransactionMemo:
    """The memo of the session's current transaction (begun now if it was not yet)."""
    transaction = session.sync_session.get_transaction()
    if transaction is None:
        await session.connection()
        transaction = session.sync_session.get_transaction()
    held = session.info.get(_INFO_KEY)
    if held is None or held[0] is not transaction:
        held = (transaction, TransactionMemo())
        session.info[_INFO_KEY] = held
    memo: TransactionMemo = held[1]
    return memo
