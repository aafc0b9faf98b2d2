"""Async SQLAlchemy engine and sessions per service: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


SERVER_SETTINGS = {
    # Statements are prepared; after five runs PostgreSQL may switch to a generic plan, and
    # for `customer_id = ANY($1)` over a run's customers that plan scans the table.
    "plan_cache_mode": "force_custom_plan",
    # What a run reads is a few dozen to a few hundred rows by key out of tables whose hot part
    # is cached. With the default (4, a disk seek), a run of 50 keys is planned as a scan of a
    # table of a few thousand rows, and that scan costs more as the table grows.
    "random_page_cost": "1.1",
}


def json_text(value: Any) -> str:
    """A JSON column's value as text, as the driver writes it (PostgreSQL's set writes go
    through ``bulk``'s one document instead, also orjson): times and dates as ISO 8601 (naive
    ones are UTC), keys other than strings as strings as the standard library would, and a
    ``Decimal`` refused as it would refuse it (a column value is never one)."""
    return orjson.dumps(value, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS).decode()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # JSON columns (a customer's facts, documents) are read on every run: orjson decodes them
    # several times faster than the standard library.
    kwargs.setdefault("json_deserializer", orjson.loads)
    kwargs.setdefault("json_serializer", json_text)
    # A statement's parameters are customers' personal data: never in an error's text, so
    # never in a log line or a traceback.
    kwargs.setdefault("hide_parameters", True)
    if not is_sqlite(url):
        if make_url(url).get_driver_name() == "asyncpg":
            kwargs.setdefault("connect_args", {"server_settings": SERVER_SETTINGS})
        # No ping before each checkout (a round trip per request and per transaction): a
        # connection found broken fails its one use, which invalidates the whole pool; the
        # API answers that request 503 and the consumer retries it.
        return create_async_engine(url, **kwargs)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
    _serialise_sqlite_writers(engine)
    return engine


READ_ONLY = "loopcrm_read_only"
"""Execution option of a session that only reads: on SQLite it begins a deferred transaction."""


def read_options(dialect_name: str) -> dict[str, Any]:
    """How a connection that only reads is opened: on SQLite a deferred transaction (WAL
    readers never wait for the writer); elsewhere autocommit, each statement on its own (no
    BEGIN and ROLLBACK round trips; READ COMMITTED gives each statement its own snapshot
    anyway)."""
    if dialect_name == "sqlite":
        return {READ_ONLY: True}
    return {"isolation_level": "AUTOCOMMIT"}


def _serialise_sqlite_writers(engine: AsyncEngine) -> None:
    # The API, the consumer and the outbox relay share one SQLite file. Deferred transactions
    # that later upgrade to writers fail with "database is locked" without waiting, so every
    # transaction starts IMMEDIATE and waits its turn (busy timeout) instead.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted content is zeroed, not left in free pages (an erased customer's data). Some
        # builds (Debian's) have it on by default, others not.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Readers (WAL) run beside the writer and never queue for its lock.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


async def checkpoint_sqlite(session: AsyncSession) -> None:
    """On SQLite, copy the write-ahead log into the database file and empty it (after an
    erasure: the log holds earlier versions of the pages it changed); nothing elsewhere.
    Outside any transaction, on a connection of the pool; it waits for readers still using
    the log (busy timeout). Deleted content is zeroed in the file on every connection
    (``secure_delete``)."""
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert raw.driver_connection is not None
        await raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on every backend (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: loopcrm stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
