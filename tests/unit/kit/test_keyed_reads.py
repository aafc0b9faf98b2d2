"""The hottest reads by key: compiled once for asyncpg, and a database that cannot be reached
is SQLAlchemy's OperationalError (the API's 503), as on every other read."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.profile.queries import THE_360
from shared.keyed_reads import KeyedReads, _for_asyncpg


@contextlib.asynccontextmanager
async def _no_fallback() -> AsyncIterator[AsyncConnection]:
    raise AssertionError("PostgreSQL reads go through the driver's pool")
    yield  # pragma: no cover


def test_a_statement_is_compiled_for_asyncpg_with_its_parameters_in_order():
    sql, names = _for_asyncpg(THE_360)
    assert "$1" in sql and "$2" not in sql
    assert names == ("customer_id",)


async def test_an_unreachable_database_is_an_operational_error():
    reads = KeyedReads("postgresql+asyncpg://nobody@127.0.0.1:1/none", _no_fallback, pool_size=1)
    await reads.start()
    try:
        with pytest.raises(OperationalError):
            await reads.value(THE_360, {"customer_id": "c-1"})
    finally:
        await reads.close()
