"""The kit's set-based writes on the database the service runs on (PostgreSQL when
LOOPCRM_TEST_DATABASE_URL names a server, where rows travel as one JSON document):
the rows written are the rows one statement per row would write."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, BigInteger, Column, Date, Integer, MetaData, String, Table, select

from shared import bulk
from shared.db import UtcDateTime, create_engine, create_session_factory
from shared.transaction import TransactionFactory
from tests.support.databases import fresh_database

metadata = MetaData()
entries = Table(
    "entries",
    metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("entry_id", String(40), nullable=False, unique=True),
    Column("customer_id", String(40), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("details", JSON),
)
months = Table(
    "months",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("spend", BigInteger, nullable=False),
    Column("placed_at", UtcDateTime()),
    Column("label", String(40)),
)
NOW = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
JUNE, JULY = date(2025, 6, 1), date(2025, 7, 1)


@pytest.fixture
async def factory(tmp_path: Path) -> AsyncIterator[TransactionFactory]:
    async with fresh_database(tmp_path, "bulk") as url:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        try:
            yield TransactionFactory(create_session_factory(engine), source="test")
        finally:
            await engine.dispose()


async def _months(factory: TransactionFactory) -> dict[tuple[str, date], tuple]:
    async with factory.read() as session:
        result = await session.execute(select(months))
        return {(r.customer_id, r.month): (r.spend, r.placed_at, r.label) for r in result}


async def test_inserted_rows_keep_their_order_and_values(factory: TransactionFactory) -> None:
    rows = [
        {
            "entry_id": f"e-{n}",
            "customer_id": f"c-{n % 3}",
            "points": 10 * n,
            "at": NOW + timedelta(minutes=n),
            "details": None if n == 2 else {"n": n, "list": [1, "a"]},
        }
        for n in range(7, 0, -1)
    ]
    async with factory.begin(NOW) as tx:
        await bulk.insert_rows(tx.session, entries, rows)
        await bulk.insert_rows(tx.session, entries, [])
    async with factory.read() as session:
        stored = (await session.execute(select(entries).order_by(entries.c.seq))).all()
    assert [row.entry_id for row in stored] == [row["entry_id"] for row in rows]
    assert [(r.customer_id, r.points, r.at, r.details) for r in stored] == [
        (row["customer_id"], row["points"], row["at"], row["details"]) for row in rows
    ]


async def test_insert_new_returns_only_what_it_inserted_or_filled(
    factory: TransactionFactory,
) -> None:
    first = {"customer_id": "a", "month": JUNE, "spend": 1, "placed_at": None, "label": "x"}
    async with factory.begin(NOW) as tx:
        await bulk.insert_rows(tx.session, months, [first])
    rows = [
        {"customer_id": "a", "month": JUNE, "spend": 7, "placed_at": NOW, "label": "y"},
        {"customer_id": "b", "month": JUNE, "spend": 2, "placed_at": NOW, "label": "z"},
    ]
    async with factory.begin(NOW) as tx:
        plain = await bulk.insert_new(tx.session, months, rows, returning=("customer_id",))
    assert plain == [("b",)]
    async with factory.begin(NOW) as tx:
        filled = await bulk.insert_new(
            tx.session,
            months,
            rows,
            returning=("customer_id", "spend"),
            fill=("placed_at",),
            fill_when_null="placed_at",
        )
    assert filled == [("a", 1)]  # b is there already and has its time; a took the new one
    assert await _months(factory) == {("a", JUNE): (1, NOW, "x"), ("b", JUNE): (2, NOW, "z")}


async def test_upsert_sets_some_columns_and_adds_to_others(factory: TransactionFactory) -> None:
    async with factory.begin(NOW) as tx:
        await bulk.upsert(
            tx.session,
            months,
            [{"customer_id": "a", "month": JUNE, "spend": 5, "placed_at": NOW, "label": "x"}],
            key=("customer_id", "month"),
        )
    later = NOW + timedelta(days=1)
    rows = [
        {"customer_id": "a", "month": JUNE, "spend": -2, "placed_at": later, "label": "y"},
        {"customer_id": "a", "month": JULY, "spend": 4, "placed_at": later, "label": "z"},
    ]
    async with factory.begin(NOW) as tx:
        await bulk.upsert(
            tx.session,
            months,
            rows,
            key=("customer_id", "month"),
            update_columns=("placed_at",),
            add_columns=("spend",),
        )
    assert await _months(factory) == {
        ("a", JUNE): (3, later, "x"),
        ("a", JULY): (4, later, "z"),
    }
    async with factory.begin(NOW) as tx:  # nothing to set: a conflict leaves the row alone
        await bulk.upsert(
            tx.session, months, rows[:1], key=("customer_id", "month"), update_columns=()
        )
    assert (await _months(factory))[("a", JUNE)] == (3, later, "x")


async def test_update_by_key_rewrites_only_the_rows_named(factory: TransactionFactory) -> None:
    async with factory.begin(NOW) as tx:
        await bulk.insert_rows(
            tx.session,
            months,
            [
                {"customer_id": c, "month": m, "spend": 1, "placed_at": None, "label": None}
                for c in ("a", "b")
                for m in (JUNE, JULY)
            ],
        )
    async with factory.begin(NOW) as tx:
        await bulk.update_by_key(
            tx.session,
            months,
            [
                {"customer_id": "a", "month": JULY, "spend": 9, "label": "new"},
                {"customer_id": "c", "month": JUNE, "spend": 9, "label": "nobody"},
            ],
            key=("customer_id", "month"),
        )
    stored = await _months(factory)
    assert stored.pop(("a", JULY)) == (9, None, "new")
    assert set(stored.values()) == {(1, None, None)} and len(stored) == 3


async def test_upsert_unless_newer_keeps_a_later_stored_fact(factory: TransactionFactory) -> None:
    later, earlier = NOW + timedelta(hours=1), NOW - timedelta(hours=1)
    stored = [
        {"customer_id": c, "month": JUNE, "spend": 1, "placed_at": NOW, "label": "stored"}
        for c in ("a", "b")
    ]
    async with factory.begin(NOW) as tx:
        await bulk.insert_rows(tx.session, months, stored)
    arriving = [
        {"customer_id": "a", "month": JUNE, "spend": 2, "placed_at": later, "label": "newer"},
        {"customer_id": "b", "month": JUNE, "spend": 3, "placed_at": earlier, "label": "older"},
        {"customer_id": "c", "month": JUNE, "spend": 4, "placed_at": earlier, "label": "new"},
    ]
    async with factory.begin(NOW) as tx:
        await bulk.upsert(
            tx.session, months, arriving, key=("customer_id", "month"), unless_newer="placed_at"
        )
    assert await _months(factory) == {
        ("a", JUNE): (2, later, "newer"),
        ("b", JUNE): (1, NOW, "stored"),
        ("c", JUNE): (4, earlier, "new"),
    }


async def test_delete_by_key_deletes_only_the_rows_named(factory: TransactionFactory) -> None:
    customers = [f"c{i:04d}" for i in range(1500)]
    async with factory.begin(NOW) as tx:
        await bulk.insert_rows(
            tx.session,
            months,
            [
                {"customer_id": c, "month": m, "spend": 1, "placed_at": None, "label": None}
                for c in customers
                for m in (JUNE, JULY)
            ],
        )
    # Many pairs at once (as a run's removed tags), one named twice, one not there.
    doomed = [{"customer_id": c, "month": JULY} for c in customers[:1200]]
    doomed += [{"customer_id": "c0000", "month": JULY}, {"customer_id": "zz", "month": JUNE}]
    async with factory.begin(NOW) as tx:
        await bulk.delete_by_key(tx.session, months, doomed)
    stored = await _months(factory)
    assert set(stored) == {(c, JUNE) for c in customers} | {(c, JULY) for c in customers[1200:]}
