"""Customers: rows <-> ``CustomerState``, read for a whole run (or a sweep's chunk) in one
statement and written back in one statement per kind of write, with their 360 document.

Rows are read with a lock (``FOR UPDATE``) so two transactions never apply the same
customer's events over each other; customers first heard of are inserted (a concurrent
insert of the same customer fails the run, which the consumer then redoes event by event).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, cast

from sqlalchemy import RowMapping, Select, Table, delete, select

from services.profile.models import Customer, CustomerOrder
from services.profile.repository import tags
from services.profile.repository.documents import customer_360
from services.profile.repository.facts import StoredDays, facts_from_json, facts_to_json
from services.profile.rules.customer import CustomerProfile
from services.profile.rules.evaluation import CustomerState
from services.profile.rules.summary import Activity
from shared import bulk
from shared.tables import outbox
from shared.transaction import Transaction
from shared.turns import in_turns

PROFILE_COLUMNS = tuple(f.name for f in fields(CustomerProfile))
_customers = cast(Table, Customer.__table__)
_STATE = select(
    *(_customers.c[name] for name in PROFILE_COLUMNS), _customers.c.features, _customers.c.tags
)


def _state_of(row: RowMapping, stored: StoredDays) -> CustomerState:
    values = {name: row[name] for name in PROFILE_COLUMNS}
    values["consents"] = dict(row["consents"] or {})
    values["open_tickets"] = row["open_tickets"] or 0
    facts = facts_from_json(row["features"], stored)
    return CustomerState(CustomerProfile(**values), facts, frozenset(row["tags"] or ()))


async def _locked(tx: Transaction, query: Select[Any]) -> dict[str, CustomerState]:
    rows = (await tx.session.execute(query.with_for_update())).mappings()
    stored = tx.held(StoredDays)
    return {row["customer_id"]: _state_of(row, stored) async for row in in_turns(rows)}


async def lock_customers(tx: Transaction, customer_ids: Iterable[str]) -> dict[str, CustomerState]:
    """The customers found of ``customer_ids``, locked for the rest of the transaction."""
    ids = list(customer_ids)
    if not ids:
        return {}
    return await _locked(tx, _STATE.where(_customers.c.customer_id.in_(ids)))


async def lock_due_for_review(tx: Transaction, now: datetime, limit: int) -> list[CustomerState]:
    """Up to ``limit`` customers whose tags time alone may have changed by ``now``, most
    overdue first, locked (on PostgreSQL those another transaction holds are skipped)."""
    query = (
        _STATE.where(_customers.c.tags_review_at <= now, _customers.c.erased_at.is_(None))
        .order_by(_customers.c.tags_review_at, _customers.c.customer_id)
        .limit(limit)
    )
    rows = (await tx.session.execute(query.with_for_update(skip_locked=True))).mappings()
    stored = tx.held(StoredDays)
    return [_state_of(row, stored) async for row in in_turns(rows)]


@dataclass(frozen=True)
class CustomerWrite:
    """A customer to write: the state before (None: first heard of in this transaction), the
    state after and the 360's activity block as of its evaluation."""

    before: CustomerState | None
    after: CustomerState
    activity: Activity


def _changed_columns(write: CustomerWrite) -> set[str]:
    """The columns of a known customer's row the write changes (the 360 always: its activity
    block holds as of the evaluation)."""
    before, after = write.before, write.after
    assert before is not None
    changed = {"customer_360"}
    changed.update(
        name
        for name in PROFILE_COLUMNS
        if getattr(before.profile, name) != getattr(after.profile, name)
    )
    if before.facts != after.facts or before.profile.erased != after.profile.erased:
        changed.add("features")
    if before.tags != after.tags:
        changed.add("tags")
    return changed


_ROW_COLUMNS = (*PROFILE_COLUMNS, "features", "tags", "customer_360")


def _row(
    write: CustomerWrite, stored: StoredDays, columns: Sequence[str] = _ROW_COLUMNS
) -> dict[str, Any]:
    """The ``columns`` of the customer's row as the write leaves it. A run updates the columns
    it changes, the same for every row of the run, so a run of views or orders neither encodes
    nor sends the profile's fields."""
    state = write.after
    profile = state.profile
    row: dict[str, Any] = {"customer_id": profile.customer_id}
    for name in columns:
        if name == "features":
            row[name] = None if profile.erased else facts_to_json(state.facts, stored)
        elif name == "tags":
            row[name] = sorted(state.tags)
        elif name == "customer_360":
            row[name] = customer_360(profile, state.tags, write.activity)
        elif name == "consents":
            row[name] = dict(profile.consents)
        else:
            row[name] = getattr(profile, name)
    return row


async def save_customers(tx: Transaction, writes: Sequence[CustomerWrite]) -> None:
    """Write the customers (one INSERT for those first heard of, one UPDATE for the others)
    and their changes of tags; a tag added holds since the evaluation moment."""
    session, stored = tx.session, tx.held(StoredDays)
    new = [_row(w, stored) async for w in in_turns(writes) if w.before is None]
    known_writes = [w for w in writes if w.before is not None]
    columns = sorted(set().union(*map(_changed_columns, known_writes)))
    known = [_row(w, stored, columns) async for w in in_turns(known_writes)]
    await bulk.insert_rows(session, _customers, new)
    await bulk.update_by_key(session, _customers, known, key=["customer_id"])
    removed: list[tuple[str, str]] = []
    added: list[tuple[str, str, datetime]] = []
    for write in writes:
        customer_id, after = write.after.profile.customer_id, write.after.tags
        before = write.before.tags if write.before is not None else frozenset()
        removed.extend((customer_id, tag) for tag in before - after)
        since = write.after.profile.tags_as_of
        if after - before:
            assert since is not None, "tags are added by an evaluation"
            added.extend((customer_id, tag, since) for tag in sorted(after - before))
    await tags.write_changes(tx, removed=removed, added=added)


async def drop_profiling(tx: Transaction, customer_id: str) -> None:
    """Erasure: the customer's known orders go, and so do their profile.tagged events still
    waiting in the outbox (profiling data about someone every consumer is about to be told to
    erase); ``save_customers`` then writes the row without facts and drops the tags."""
    session = tx.session
    await session.execute(delete(CustomerOrder).where(CustomerOrder.customer_id == customer_id))
    await session.execute(
        delete(outbox).where(outbox.c.topic == "profile.tagged", outbox.c.key == customer_id)
    )
