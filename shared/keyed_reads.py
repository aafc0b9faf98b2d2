"""The hottest reads of a service (the customer 360: one value by primary key, many times a
second) straight through the driver's own connection pool on PostgreSQL.

Through SQLAlchemy, checking a connection out of its pool and executing one Core statement
cost the profile process about 0.3 ms of CPU per read, six times the rest of a `/healthz`
request; asyncpg's pool and ``fetchval`` cost about half. The statement is still written
once, as SQLAlchemy Core, and compiled once for asyncpg; on SQLite (in-process, no pool worth
bypassing) it runs on a read-only SQLAlchemy connection as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from sqlalchemy import Select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db import SERVER_SETTINGS

_DRIVER_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class KeyedReads:
    """``await reads.value(statement, params)``: the first column of the statement's first row,
    None when there is none. Database errors surface as SQLAlchemy's ``OperationalError`` (the
    API answers 503), whichever way the read went."""

    def __init__(
        self,
        url: str,
        fallback: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
        *,
        pool_size: int,
    ) -> None:
        parsed = make_url(url)
        self._dsn = (
            parsed.set(drivername="postgresql").render_as_string(hide_password=False)
            if parsed.get_driver_name() == "asyncpg" and pool_size > 0
            else None
        )
        self._fallback = fallback
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        if self._dsn is not None:
            # No connection at start: the service starts (and says it is not ready) without
            # its database, as it does through SQLAlchemy.
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=0,
                max_size=self._pool_size,
                server_settings=SERVER_SETTINGS,
                reset=_nothing_to_reset,
            )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def value(self, statement: Select[Any], params: Mapping[str, Any]) -> Any:
        if self._pool is None:
            async with self._fallback() as connection:
                return (await connection.execute(statement, params)).scalar_one_or_none()
        sql, names = _for_asyncpg(statement)
        arguments = [params[name] for name in names]
        try:
            async with self._pool.acquire() as connection:
                return await connection.fetchval(sql, *arguments)
        except _DRIVER_ERRORS as exc:
            raise OperationalError(sql, arguments, exc) from exc


async def _nothing_to_reset(connection: asyncpg.Connection) -> None:
    # These connections only ever run one SELECT outside a transaction: no session state to
    # undo, so no reset statements (a round trip per read) on the way back to the pool.
    return None


@functools.cache
def _for_asyncpg(statement: Select[Any]) -> tuple[str, tuple[str, ...]]:
    """The statement as asyncpg's SQL ($1, $2...) and the parameter names in that order."""
    compiled = statement.compile(dialect=asyncpg_dialect())
    return str(compiled), tuple(compiled.positiontup or ())
