"""Profiling customers, the write path of the handlers, the sweep and erasure: customers read
once (locked), changed in memory, evaluated once each, written back in sets.

A run of events reads its customers with one statement, with the tickets and orders its
events name; applies the events in partition order, each at the moment it would have been
evaluated at alone; then evaluates each customer once, as of the latest time of their events,
and writes everything back with one statement per table. So a customer gets at most one
profile.tagged per run, and a run redone one event at a time (after a failure) leaves the
same state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from services.profile.context import ProfileContext
from services.profile.repository import customers, orders, segments, tickets
from services.profile.repository.customers import CustomerWrite
from services.profile.repository.segments import SegmentChange
from services.profile.rules import customer as c
from services.profile.rules import facts as f
from services.profile.rules.customer import CustomerProfile, TicketStatus
from services.profile.rules.evaluation import CustomerState
from services.profile.rules.facts import FactUpdate, OrderRecord
from shared.events.envelope import TypedEvent
from shared.transaction import Transaction
from shared.turns import in_turns

Events = Sequence[TypedEvent[Any]]


async def reassess_and_save(
    tx: Transaction,
    ctx: ProfileContext,
    touched: Iterable[tuple[CustomerState | None, CustomerState, datetime]],
) -> list[CustomerState]:
    """Evaluate each customer once — (as evaluated last or None, as now, the moment to evaluate
    at) — write them all, and announce each change of tags with profile.tagged at the moment of
    its evaluation; the states written."""
    writes: list[CustomerWrite] = []
    async for before, state, at in in_turns(touched):
        done = ctx.tagging.reassess(state, at, before)
        writes.append(CustomerWrite(before, done.state, done.activity))
        if done.change is not None:
            profile = done.state.profile
            announcement = ctx.tagging.announcement(profile.customer_id, done.change)
            assert profile.tags_as_of is not None
            await tx.outbox.publish(announcement, time=profile.tags_as_of)
    await customers.save_customers(tx, writes)
    return [write.after for write in writes]


class Run:
    """The customers of a run of events, read at once and changed in memory in event order.

    ``change_profile`` and ``record`` apply one event; ``save`` evaluates each customer once
    and writes everything back. An erased customer is no longer profiled: no facts. A change
    of segment alone is written in place, the customer unread (``repository/segments.py``)."""

    def __init__(
        self,
        ctx: ProfileContext,
        stored: dict[str, CustomerState],
        ticket_statuses: dict[str, TicketStatus],
        order_records: dict[str, dict[str, OrderRecord]],
    ) -> None:
        self._ctx = ctx
        self._stored = stored
        self._orders = order_records
        self._tickets = ticket_statuses
        self._tickets_changed: dict[str, tuple[str, TicketStatus]] = {}
        self._changed: dict[str, CustomerState] = {}
        self._segments: dict[str, SegmentChange] = {}
        self._latest: dict[str, datetime] = {}
        self._read_customers: set[str] = set(stored)
        self._read_tickets: set[str] = set(ticket_statuses)
        self._read_orders: set[str] = {o for records in order_records.values() for o in records}

    @classmethod
    async def of(
        cls,
        tx: Transaction,
        ctx: ProfileContext,
        events: Events,
        *,
        ticket_ids: Iterable[str] = (),
        order_ids: Iterable[str] = (),
    ) -> Run:
        """The transaction's run, with what ``events`` name read in. Every handler of a
        transaction (a mixed run of views, orders, refunds...) shares it, and it is saved once,
        before the commit: one evaluation and one profile.tagged per customer."""
        held = tx.held(_RunOfTransaction)
        if held.run is None:
            run = held.run = cls(ctx, {}, {}, {})
            tx.before_commit(lambda: run.save(tx))
        await held.run.include(tx, events, ticket_ids=ticket_ids, order_ids=order_ids)
        return held.run

    async def include(
        self,
        tx: Transaction,
        events: Events,
        *,
        ticket_ids: Iterable[str] = (),
        order_ids: Iterable[str] = (),
    ) -> None:
        """Read (and lock) the customers, tickets and orders not read yet; what the run has
        changed stays as the run left it."""
        await self._read_customers_of(tx, (event.data.customer_id for event in events))
        new_tickets = set(ticket_ids) - self._read_tickets
        self._read_tickets |= new_tickets
        for ticket_id, status in (await tickets.ticket_statuses(tx, new_tickets)).items():
            self._tickets.setdefault(ticket_id, status)
        new_orders = set(order_ids) - self._read_orders
        self._read_orders |= new_orders
        for customer_id, records in (await orders.order_records(tx, new_orders)).items():
            known = self._orders.setdefault(customer_id, {})
            for order_id, record in records.items():
                known.setdefault(order_id, record)
            state = self._changed.get(customer_id)
            if state is not None:
                merged = {**records, **state.facts.known_orders}
                facts = state.facts._replace(known_orders=merged)
                self._changed[customer_id] = CustomerState(state.profile, facts, state.tags)

    async def _read_customers_of(self, tx: Transaction, customer_ids: Iterable[str]) -> None:
        """Read (and lock) the customers not read yet, then apply a change of segment kept for
        any of them: it came first."""
        new_customers = [
            customer_id
            for customer_id in dict.fromkeys(customer_ids)
            if customer_id not in self._read_customers
        ]
        self._read_customers.update(new_customers)
        self._stored.update(await customers.lock_customers(tx, new_customers))
        for customer_id in new_customers:
            kept = self._segments.pop(customer_id, None)
            if kept is not None:
                self._apply_segment(customer_id, kept)

    def _touch(self, customer_id: str, at: datetime) -> tuple[CustomerState, datetime]:
        """The customer as the run left them, and the moment the event is applied at (the
        evaluation moment it would have had alone)."""
        state = self._changed.get(customer_id)
        if state is None:
            state = self._stored.get(customer_id) or CustomerState(
                c.first_heard_of(customer_id, at)
            )
            known = self._orders.get(customer_id)
            if known:
                state = CustomerState(
                    state.profile, state.facts._replace(known_orders=known), state.tags
                )
        latest = self._latest[customer_id] = max(self._latest.get(customer_id, at), at)
        return state, c.evaluation_moment(state.profile, latest)

    def _keep(self, state: CustomerState, now: datetime) -> None:
        # Retention as of each event's moment, as when each event is evaluated alone.
        if not state.profile.erased:
            state = CustomerState(state.profile, f.pruned(state.facts, now), state.tags)
        self._changed[state.profile.customer_id] = state

    def change_profile(
        self, customer_id: str, at: datetime, change: Callable[[CustomerProfile], CustomerProfile]
    ) -> None:
        state, now = self._touch(customer_id, at)
        self._keep(CustomerState(change(state.profile), state.facts, state.tags), now)

    def record(self, customer_id: str, at: datetime, update: FactUpdate | None) -> None:
        """What an event adds to the customer's facts (None: nothing, the customer is only
        evaluated as of the event)."""
        state, now = self._touch(customer_id, at)
        if update is not None and not state.profile.erased:
            state = CustomerState(state.profile, update(state.facts, now=now), state.tags)
        self._keep(state, now)

    def change_segment(self, customer_id: str, at: datetime, segment: str) -> None:
        """A segment.changed: applied to a customer the run has read; otherwise kept, the
        latest by business time, to be written in place unless a later handler of the run
        reads the customer."""
        change = SegmentChange(segment, at)
        if customer_id in self._read_customers:
            self._apply_segment(customer_id, change)
            return
        kept = self._segments.get(customer_id)
        if kept is None or at >= kept.at:
            self._segments[customer_id] = change

    def _apply_segment(self, customer_id: str, change: SegmentChange) -> None:
        segment = partial(c.with_segment, segment=change.segment, at=change.at)
        self.change_profile(customer_id, change.at, segment)

    def ticket(self, ticket_id: str) -> TicketStatus | None:
        return self._tickets.get(ticket_id)

    def set_ticket(self, customer_id: str, ticket_id: str, status: TicketStatus) -> None:
        self._tickets[ticket_id] = status
        self._tickets_changed[ticket_id] = (customer_id, status)

    async def save(self, tx: Transaction) -> None:
        if self._segments:
            written = await segments.write_segments(tx.session, self._segments)
            # The rest (see ``write_segments``) take the full path.
            await self._read_customers_of(tx, [c for c in self._segments if c not in written])
            self._segments.clear()
        saved = await reassess_and_save(
            tx,
            self._ctx,
            (
                (self._stored.get(customer_id), state, self._latest[customer_id])
                for customer_id, state in self._changed.items()
            ),
        )
        await tickets.save_ticket_statuses(tx, self._tickets_changed)
        changed_orders = {
            state.profile.customer_id: {
                order_id: record
                for order_id, record in state.facts.known_orders.items()
                if self._orders.get(state.profile.customer_id, {}).get(order_id) != record
            }
            for state in saved
        }
        await orders.save_order_records(tx, changed_orders)


class _RunOfTransaction:
    run: Run | None = None
