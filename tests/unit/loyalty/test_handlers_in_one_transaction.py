"""The consumer applies a run of events in one transaction: what a run stores is exactly what
one transaction per event stores, though later events of a customer start from the rows the
earlier ones left in hand (and the writes wait for the flush)."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.loyalty import models
from services.loyalty.handlers import event_handlers
from services.loyalty.handlers.rules import publish_rule_version
from services.loyalty.models import Base
from services.loyalty.rule_store import initial_rule_version, rules_in_force
from shared.clock import FixedClock
from shared.db import create_engine, create_session_factory
from shared.events.envelope import TypedEvent
from shared.tables import kit_metadata, outbox
from tests.unit.loyalty.test_handlers import (
    T0,
    Sessions,
    event,
    handle,
    new_id,
    order,
    refund,
    sessions,  # noqa: F401  (the fixture)
)

NOW = T0 + timedelta(days=2000)
STEPS = [timedelta(minutes=3), timedelta(hours=7), timedelta(days=3), timedelta(days=200)]


@asynccontextmanager
async def database(path: Path) -> AsyncIterator[Sessions]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        for metadata in (Base.metadata, kit_metadata):
            await connection.run_sync(metadata.create_all)
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        session.add(initial_rule_version(T0))
    try:
        yield factory
    finally:
        await engine.dispose()


def history(rng: random.Random) -> list[TypedEvent]:
    """Registrations with referrers, orders (some refunded ahead of them), refunds, reviews
    and redeliveries (under the same id and under a new one), for a few customers."""
    customers = [new_id("c") for _ in range(4)]
    placed: dict[str, list[tuple[str, Decimal]]] = {c: [] for c in customers}
    events, at = [], T0
    for referee in customers[1:]:
        data = {"customer_id": referee, "referrer_id": customers[0], "birthday": "1990-03-01"}
        events.append(event("customer.registered", data, at))
    for _ in range(160):
        at += rng.choices(STEPS, [5, 4, 3, 1])[0]
        customer_id, choice = rng.choice(customers), rng.random()
        if choice < 0.55 or not placed[customer_id]:
            order_id = new_id("o")
            amount = Decimal(rng.choice(["9.96", "480.00", "1000.00", "2700.00", "9000.00"]))
            if rng.random() < 0.1:
                events.append(refund(customer_id, order_id, str(amount / 4), at))
            events.append(order(customer_id, order_id, str(amount), at))
            placed[customer_id].append((order_id, amount))
        elif choice < 0.8:
            order_id, amount = rng.choice(placed[customer_id])
            part = (amount * Decimal(rng.choice(["0.1", "0.5", "1"]))).quantize(Decimal("0.01"))
            events.append(refund(customer_id, order_id, str(part), at))
        else:
            order_id, _ = rng.choice(placed[customer_id])
            data = {"customer_id": customer_id, "order_id": order_id, "rating": 5}
            events.append(event("review.posted", data, at))
        if rng.random() < 0.05:
            events.append(_redelivered(events[-1]))
        elif rng.random() < 0.05:
            events.append(events[-1])  # the inbox is bypassed: the domain dedupes
    return events


def _redelivered(original: TypedEvent) -> TypedEvent:
    data = original.data.model_dump(mode="json", exclude_unset=True)
    return event(original.type, data, original.envelope.time)


async def handle_in_runs(db: Sessions, events: list[TypedEvent], run: int) -> None:
    handlers = event_handlers(FixedClock(NOW))
    for start in range(0, len(events), run):
        async with db() as session, session.begin():
            for typed in events[start : start + run]:
                await handlers[typed.type](session, typed)


async def stored(db: Sessions) -> dict[str, list[Any]]:
    """Every table but the generated ids, in a stable order (the ledger and outbox in theirs)."""
    columns = {
        "accounts": (models.Account, [models.Account.customer_id]),
        "ledger": (models.LedgerEntryRow, [models.LedgerEntryRow.seq]),
        "lots": (models.Lot, [models.Lot.customer_id, models.Lot.lot_id]),
        "holds": (models.Hold, [models.Hold.customer_id, models.Hold.hold_key]),
        "orders": (models.Order, [models.Order.customer_id, models.Order.order_id]),
        "refunds": (models.OrderRefund, [models.OrderRefund.source_id]),
        "claims": (models.ClaimedReward, [models.ClaimedReward.customer_id]),
        "days": (models.DailyEarning, [models.DailyEarning.customer_id]),
    }
    generated = {"seq", "entry_id", "id", "hold_id"}
    state: dict[str, list[Any]] = {}
    async with db() as session, session.begin():
        for name, (model, order_by) in columns.items():
            rows = await session.scalars(select(model).order_by(*order_by, *_key(model)))
            state[name] = [_fields(row, generated) for row in rows]
        payloads = await session.scalars(select(outbox.c.payload).order_by(outbox.c.seq))
        state["outbox"] = [_event_fields(payload) for payload in payloads]
    return state


def _key(model: type[Base]) -> list[Any]:
    return list(model.__table__.primary_key.columns)


def _fields(row: Base, leave_out: set[str]) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in leave_out}


def _event_fields(payload: str) -> tuple[Any, ...]:
    envelope = json.loads(payload)
    return envelope["type"], envelope["subject"], envelope["time"], envelope["data"]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_run_in_one_transaction_stores_what_one_transaction_per_event_stores(
    tmp_path, seed
):
    events = history(random.Random(seed))

    async with database(tmp_path / "each.db") as each, database(tmp_path / "runs.db") as runs:
        await handle(each, *events, now=NOW)
        await handle_in_runs(runs, events, run=20)
        expected, got = await stored(each), await stored(runs)

    assert got == expected
    reasons = {entry["reason"] for entry in expected["ledger"]}
    assert {"referee_bonus", "referrer_bonus", "refund", "expiry"} <= reasons
    assert any(hold["status"] == "refunded" for hold in expected["holds"])


async def test_a_customer_new_to_a_run_is_opened_once_and_earns_on_each_order(sessions):  # noqa: F811
    customer_id = new_id("c")
    orders = [order(customer_id, new_id("o"), "100.00", T0 + timedelta(hours=k)) for k in range(3)]

    await handle_in_runs(sessions, orders, run=3)

    async with sessions() as session, session.begin():
        row = await session.get(models.Account, customer_id)
        days = list(await session.scalars(select(models.DailyEarning)))
    assert row is not None
    assert (row.balance, row.orders_placed) == (200 + 100 + 100, 3)
    assert [(day.business_day, day.points) for day in days] == [(date(2025, 3, 10), 400)]


async def test_rules_published_in_a_transaction_are_in_force_for_the_rest_of_it(sessions):  # noqa: F811
    async with sessions() as session, session.begin():
        assert (await rules_in_force(session)).version == 1
        await publish_rule_version(session, {"share_points": 120}, now=T0, admin="ops")
        assert (await rules_in_force(session)).version == 2


async def test_each_transaction_reads_the_rules_in_force_anew(sessions):  # noqa: F811
    async with sessions() as session:
        async with session.begin():
            assert (await rules_in_force(session)).version == 1
        async with sessions() as other, other.begin():
            await publish_rule_version(other, {"share_points": 120}, now=T0, admin="ops")
        async with session.begin():
            assert (await rules_in_force(session)).version == 2
