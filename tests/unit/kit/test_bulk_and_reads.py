"""Set-based writes do what one statement per row would; readers never wait for a writer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, select

from shared.bulk import update_by_key, upsert
from shared.db import create_engine, create_session_factory
from shared.transaction import TransactionFactory

metadata = MetaData()
counts = Table(
    "counts",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("events", Integer, nullable=False),
    Column("label", String(40)),
)
NOW = datetime(2025, 6, 1, tzinfo=UTC)


async def _factory(tmp_path) -> TransactionFactory:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bulk.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return TransactionFactory(create_session_factory(engine), source="test")


async def _rows(factory: TransactionFactory) -> dict[str, tuple[int, str | None]]:
    async with factory.read() as session:
        result = await session.execute(select(counts))
        return {row.customer_id: (row.events, row.label) for row in result}


async def test_upsert_inserts_new_keys_and_updates_existing_ones(tmp_path) -> None:
    factory = await _factory(tmp_path)
    async with factory.begin(NOW) as tx:
        await upsert(
            tx.session,
            counts,
            [{"customer_id": "a", "events": 1, "label": "x"}],
            key=["customer_id"],
        )
    async with factory.begin(NOW) as tx:
        await upsert(
            tx.session,
            counts,
            [
                {"customer_id": "a", "events": 5, "label": "y"},
                {"customer_id": "b", "events": 2, "label": "z"},
            ],
            key=["customer_id"],
            update_columns=["events"],
        )
    assert await _rows(factory) == {"a": (5, "x"), "b": (2, "z")}


async def test_upsert_without_columns_to_update_keeps_what_is_there(tmp_path) -> None:
    factory = await _factory(tmp_path)
    async with factory.begin(NOW) as tx:
        await upsert(tx.session, counts, [{"customer_id": "a", "events": 1}], key=["customer_id"])
    async with factory.begin(NOW) as tx:
        await upsert(
            tx.session,
            counts,
            [{"customer_id": "a", "events": 9}],
            key=["customer_id"],
            update_columns=["customer_id"],
        )
    assert await _rows(factory) == {"a": (1, None)}


async def test_update_by_key_changes_only_the_rows_named(tmp_path) -> None:
    factory = await _factory(tmp_path)
    async with factory.begin(NOW) as tx:
        await upsert(
            tx.session,
            counts,
            [{"customer_id": n, "events": 0, "label": None} for n in ("a", "b", "c")],
            key=["customer_id"],
        )
        await update_by_key(
            tx.session,
            counts,
            [{"customer_id": "a", "events": 3}, {"customer_id": "c", "events": 7}],
            key=["customer_id"],
        )
    assert await _rows(factory) == {"a": (3, None), "b": (0, None), "c": (7, None)}


async def test_a_reader_does_not_wait_for_an_open_writer_on_sqlite(tmp_path) -> None:
    factory = await _factory(tmp_path)
    async with factory.begin(NOW) as tx:
        await upsert(tx.session, counts, [{"customer_id": "a", "events": 1}], key=["customer_id"])
    writer_holds_lock = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with factory.begin(NOW) as tx:
            await update_by_key(
                tx.session, counts, [{"customer_id": "a", "events": 2}], key=["customer_id"]
            )
            writer_holds_lock.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await writer_holds_lock.wait()
    seen = await asyncio.wait_for(_rows(factory), timeout=5)
    release.set()
    await task
    assert seen == {"a": (1, None)}  # the last commit, read beside the open writer
    assert await _rows(factory) == {"a": (2, None)}
