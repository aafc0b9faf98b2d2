"""The consumer applies a run of events in one transaction: what a run stores is exactly what
one transaction per event stores, though a run's events are applied in memory to the accounts
loaded for the whole run and written together."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.loyalty import models
from services.loyalty.commands.rulebook import publish_rulebook
from services.loyalty.models import Base
from services.loyalty.repository.rulebook import rulebook_in_force
from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness
from tests.unit.loyalty.test_handlers import T0, order, refund

NOW = T0 + timedelta(days=2000)
STEPS = [timedelta(minutes=3), timedelta(hours=7), timedelta(days=3), timedelta(days=200)]


@asynccontextmanager
async def loyalty_at(directory: Path) -> AsyncIterator[ServiceHarness]:
    async with service_harness("loyalty", directory, clock=FixedClock(NOW)) as svc:
        yield svc


@pytest.fixture
def directories(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tmp_path_factory.mktemp("each"), tmp_path_factory.mktemp("runs")


@pytest.fixture
async def loyalty(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    async with service_harness("loyalty", tmp_path, clock=FixedClock(T0)) as svc:
        yield svc


def history(rng: random.Random) -> list[dict[str, Any]]:
    """Registrations with referrers, orders (some refunded ahead of them), refunds, reviews
    and redeliveries (under the same id and under a new one), for a few customers."""
    customers = [new_id("c") for _ in range(4)]
    placed: dict[str, list[tuple[str, Decimal]]] = {c: [] for c in customers}
    events, at = [], T0
    for referee in customers[1:]:
        events.append(
            builders.customer_registered(
                referee, referrer_id=customers[0], birthday="1990-03-01", at=at
            )
        )
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
            events.append(builders.review_posted(customer_id, order_id=order_id, rating=5, at=at))
        if rng.random() < 0.05:
            events.append(_redelivered(events[-1]))
        elif rng.random() < 0.05:
            # The same id from another source passes the inbox: the rules dedupe on the id.
            events.append({**events[-1], "source": "storefront-replay"})
    return events


def _redelivered(original: dict[str, Any]) -> dict[str, Any]:
    return {**original, "id": str(uuid.uuid4())}


async def deliver_in_runs(svc: ServiceHarness, events: list[dict[str, Any]], run: int) -> None:
    for start in range(0, len(events), run):
        await svc.deliver(*events[start : start + run])


async def stored(svc: ServiceHarness) -> dict[str, list[Any]]:
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
    async with svc.transaction() as tx:
        for name, (model, order_by) in columns.items():
            rows = await tx.session.scalars(select(model).order_by(*order_by, *_key(model)))
            state[name] = [_fields(row, generated) for row in rows]
    state["outbox"] = [(e.type, e.subject, e.time, e.data) for e in await svc.published()]
    return state


def _key(model: type[Base]) -> list[Any]:
    return list(model.__table__.primary_key.columns)


def _fields(row: Base, leave_out: set[str]) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in leave_out}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_run_in_one_transaction_stores_what_one_transaction_per_event_stores(
    directories, seed
):
    events = history(random.Random(seed))

    async with loyalty_at(directories[0]) as each, loyalty_at(directories[1]) as runs:
        await each.deliver_each(*events)
        await deliver_in_runs(runs, events, run=20)
        expected, got = await stored(each), await stored(runs)

    assert got == expected
    reasons = {entry["reason"] for entry in expected["ledger"]}
    assert {"referee_bonus", "referrer_bonus", "refund", "expiry"} <= reasons
    assert any(hold["status"] == "refunded" for hold in expected["holds"])


async def test_a_customer_new_to_a_run_is_opened_once_and_earns_on_each_order(loyalty):
    customer_id = new_id("c")
    orders = [order(customer_id, new_id("o"), "100.00", T0 + timedelta(hours=k)) for k in range(3)]

    await deliver_in_runs(loyalty, orders, run=3)

    async with loyalty.transaction() as tx:
        row = await tx.session.get(models.Account, customer_id)
        days = list(await tx.session.scalars(select(models.DailyEarning)))
    assert row is not None
    assert (row.balance, row.orders_placed) == (200 + 100 + 100, 3)
    assert [(day.business_day, day.points) for day in days] == [(date(2025, 3, 10), 400)]


async def test_a_rulebook_published_in_a_transaction_is_in_force_for_the_rest_of_it(loyalty):
    async with loyalty.transaction() as tx:
        assert (await rulebook_in_force(tx)).version == 1
        await publish_rulebook(tx, {"share_points": 120}, admin="ops")
        assert (await rulebook_in_force(tx)).version == 2


async def test_each_transaction_reads_the_rulebook_in_force_anew(loyalty):
    async with loyalty.transaction() as tx:
        assert (await rulebook_in_force(tx)).version == 1
    async with loyalty.transaction() as other:
        await publish_rulebook(other, {"share_points": 120}, admin="ops")
    async with loyalty.transaction() as tx:
        assert (await rulebook_in_force(tx)).version == 2
