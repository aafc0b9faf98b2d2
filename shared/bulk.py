"""Set-based writes for batch handlers: one statement per table for a whole run.

``upsert`` inserts rows or, on a key conflict, updates the given columns (SQLite and
PostgreSQL spell it the same: ``INSERT ... ON CONFLICT (...) DO UPDATE``); ``update_by_key``
updates many rows by primary key in one executemany. Both take plain dicts, the way the
repositories of batch handlers hold their rows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, and_, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update_columns: Sequence[str] | None = None,
) -> None:
    """Insert ``rows``; where ``key`` already exists, set ``update_columns`` (default: every
    non-key column given) from the new row, or leave it alone when there is none to set.
    All rows name the same columns; one executemany of a statement compiled once."""
    if not rows:
        return
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    columns = tuple(rows[0])
    to_update = tuple(c for c in (update_columns or columns) if c not in key)
    statement = _upsert_statement(table, tuple(key), to_update, on_postgresql)
    with session.no_autoflush:
        await session.execute(statement, list(rows))


@functools.lru_cache(maxsize=512)
def _upsert_statement(
    table: Table, key: tuple[str, ...], to_update: tuple[str, ...], on_postgresql: bool
) -> Any:
    dialect = postgresql if on_postgresql else sqlite
    statement: Any = dialect.insert(table)
    if to_update:
        return statement.on_conflict_do_update(
            index_elements=list(key), set_={name: statement.excluded[name] for name in to_update}
        )
    return statement.on_conflict_do_nothing(index_elements=list(key))


async def update_by_key(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], *, key: Sequence[str]
) -> None:
    """``UPDATE table SET <other columns> WHERE <key columns> = ...`` for every row, one
    executemany (all rows must name the same columns)."""
    if not rows:
        return
    values = [name for name in rows[0] if name not in key]
    statement = (
        update(table)
        .where(and_(*(table.c[name] == bindparam(f"key_{name}") for name in key)))
        .values({name: bindparam(f"new_{name}") for name in values})
    )
    parameters = [
        {**{f"key_{n}": row[n] for n in key}, **{f"new_{n}": row[n] for n in values}}
        for row in rows
    ]
    with session.no_autoflush:
        await session.connection()
        await session.execute(statement, parameters)
