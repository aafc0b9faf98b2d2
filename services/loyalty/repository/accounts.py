"""Loading the accounts a run of events (or a command, or a chunk of a sweep) acts on.

`load_accounts` reads a whole set of customers with one query per table (`stored`): the
account rows (locked, `SELECT ... FOR UPDATE` on PostgreSQL, in customer order), then what
the operations need and nothing more — open lots (every one where points may be spent, only
those due where points are earned) and pending holds, for accounts with a balance or held
points; the orders named, the refunds of the orders a refund names, the once-only keys asked
about, the credited earns of the business days acted on and the net spend of the months of
their tier windows. Nothing read is a customer's history.

Each customer becomes a `LoadedAccount`: the rules' `PointsAccount` and what was stored, so
that saving (`saving.save_accounts`) writes only what changed, one statement per table. A
customer loyalty has not stored yet is loaded empty; it is written once an operation opens
it (`Accounts.open`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from services.loyalty.repository.rows import Values, hold_of, lot_of, order_record_of
from services.loyalty.repository.stored import Stored, read_account_rows, read_stored
from services.loyalty.rules.account import PointsAccount
from services.loyalty.rules.details import CustomerDetails
from services.loyalty.rules.ledger import Totals
from services.loyalty.rules.referral import referral_keys_to_look_up, referrer_reward_key
from services.loyalty.rules.rulebook import Rulebook, Tier
from services.loyalty.rules.tiers import business_month_start
from shared.money import to_yuan
from shared.transaction import Transaction


@dataclass
class Wanted:
    """What the operations on one customer need besides its account row: `times` they happen
    at (their business days' credited earns and their tier windows' spend), the orders they
    name, the orders whose refunds so far they need, the once-only keys, and which open lots:
    every one (`every_lot`, what spending needs) or only those due by `lots_due_by` (what
    expiring needs; an order that was refunded before it was placed still gets every lot)."""

    times: list[datetime] = field(default_factory=list)
    order_ids: set[str] = field(default_factory=set)
    refunds_of: set[str] = field(default_factory=set)
    reward_keys: set[str] = field(default_factory=set)
    every_lot: bool = True
    lots_due_by: datetime | None = None

    @classmethod
    def earning_at(cls, times: list[datetime], **needs: Any) -> Wanted:
        """What crediting and expiring at `times` need: the lots due by the latest."""
        return cls(times=times, every_lot=False, lots_due_by=max(times), **needs)

    def add(self, other: Wanted) -> None:
        self.times += other.times
        self.order_ids |= other.order_ids
        self.refunds_of |= other.refunds_of
        self.reward_keys |= other.reward_keys
        self.every_lot = self.every_lot or other.every_lot
        due = [at for at in (self.lots_due_by, other.lots_due_by) if at is not None]
        self.lots_due_by = max(due, default=None)

    def copy(self) -> Wanted:
        return replace(
            self,
            times=list(self.times),
            order_ids=set(self.order_ids),
            refunds_of=set(self.refunds_of),
            reward_keys=set(self.reward_keys),
        )


@dataclass(eq=False)
class LoadedAccount:
    """One customer as the rules see it (`account`), what was stored, and what this unit of
    work did to it: `touched` once an operation was recorded, `hold_rows` the values of every
    hold pending when loaded or made since (by hold key), `totals` after the last entry."""

    customer_id: str
    account: PointsAccount
    stored: Stored
    with_book: bool
    erased_at: datetime | None
    reviewed_month: date | None
    totals: Totals
    hold_rows: dict[str, Values] = field(default_factory=dict)
    changed_holds: set[str] = field(default_factory=set)
    opened_at: datetime | None = None
    touched: bool = False

    @property
    def is_stored(self) -> bool:
        return self.stored.row is not None

    @property
    def details(self) -> CustomerDetails:
        account = self.account
        return CustomerDetails(
            self.customer_id, account.birthday, account.referrer_id, self.erased_at
        )

    def keep_details(self, details: CustomerDetails) -> None:
        self.account.birthday, self.account.referrer_id = details.birthday, details.referrer_id
        self.erased_at = details.erased_at
        self.touched = True


@dataclass(eq=False)
class Accounts:
    """The accounts one unit of work loaded, and the ledger rows it recorded, in order."""

    rulebook: Rulebook
    loaded: dict[str, LoadedAccount]
    ledger_rows: list[Values] = field(default_factory=list)

    def __iter__(self) -> Iterator[LoadedAccount]:
        return iter(self.loaded.values())

    def open(self, customer_id: str, at: datetime) -> LoadedAccount:
        """The account of a customer an operation at `at` names, opened then if not stored."""
        loaded = self.loaded[customer_id]
        if not loaded.is_stored and loaded.opened_at is None:
            loaded.opened_at = at
            loaded.reviewed_month = business_month_start(at, self.rulebook)
        return loaded

    def stored(self, customer_id: str) -> LoadedAccount | None:
        """The account of a customer loyalty knows, or None."""
        loaded = self.loaded.get(customer_id)
        return loaded if loaded is not None and loaded.is_stored else None


async def load_accounts(
    tx: Transaction,
    rulebook: Rulebook,
    wanted: Mapping[str, Wanted],
    *,
    book: bool = True,
    referrals: bool = False,
    lock: bool = True,
) -> Accounts:
    """The accounts of `wanted`, rows locked when `lock`. `book=False` reads the account rows
    only (enough for a customer's details). With `referrals`, the referrer of a customer whose
    first order may be in the run is loaded too, with the once-only keys of the award."""
    session = tx.session
    rows = await read_account_rows(session, wanted, lock=lock)
    if referrals:
        wanted, referrers = _with_referrals(rows, wanted)
        rows.update(await read_account_rows(session, referrers, lock=lock))
    if book:
        stored = await read_stored(session, rulebook, rows, wanted)
    else:
        stored = {customer_id: Stored(row) for customer_id, row in rows.items()}
    loaded = {
        customer_id: _loaded(customer_id, stored.get(customer_id) or Stored(), book)
        for customer_id in wanted
    }
    return Accounts(rulebook, loaded)


def _with_referrals(
    rows: Mapping[str, Any], wanted: Mapping[str, Wanted]
) -> tuple[dict[str, Wanted], list[str]]:
    """`wanted` with the referee's and the referrer's keys of every award that may be due in
    the run (the referrer's needs are the referee's times), and the referrers not loaded yet."""
    extended = dict(wanted)
    referrers = []
    for customer_id, needs in wanted.items():
        row = rows.get(customer_id)
        keys = [] if row is None else referral_keys_to_look_up(row.referrer_id, row.orders_placed)
        if row is None or not keys:
            continue
        extended[customer_id] = needs = needs.copy()
        needs.reward_keys.update(keys)
        for_referrer = Wanted.earning_at(
            list(needs.times), reward_keys={referrer_reward_key(customer_id)}
        )
        referrer = extended.get(row.referrer_id)
        if referrer is None:
            referrers.append(row.referrer_id)
            extended[row.referrer_id] = for_referrer
        else:
            extended[row.referrer_id] = referrer.copy()
            extended[row.referrer_id].add(for_referrer)
    return extended, referrers


def _loaded(customer_id: str, stored: Stored, with_book: bool) -> LoadedAccount:
    row = stored.row
    if row is None:
        account = PointsAccount(customer_id)
        return LoadedAccount(customer_id, account, stored, with_book, None, None, Totals(0, 0))
    hold_rows = {hold.hold_key: hold._asdict() for hold in stored.holds}
    # In lot id order, whatever order the database gave them.
    lots = [lot_of(stored.lots[lot_id]) for lot_id in sorted(stored.lots)]
    orders = {
        order_id: order_record_of(values, stored.refund_sources.get(order_id, frozenset()))
        for order_id, values in stored.orders.items()
    }
    account = PointsAccount(
        customer_id=customer_id,
        balance=row.balance,
        lots=lots,
        holds={key: hold_of(values) for key, values in hold_rows.items()},
        earned_by_day=dict(stored.days),
        tier=Tier(row.tier),
        birthday=row.birthday,
        referrer_id=row.referrer_id,
        orders_placed=row.orders_placed,
        orders=orders,
        claimed_keys=set(stored.claimed),
        spend_by_month={month: to_yuan(fen) for month, fen in stored.months.items()},
    )
    return LoadedAccount(
        customer_id,
        account,
        stored,
        with_book,
        row.erased_at,
        row.tier_reviewed_month,
        Totals(row.balance, row.held),
        hold_rows=hold_rows,
    )
