"""Set-based writes for batch handlers: one statement per table for a whole run.

``upsert`` inserts rows or, on a key conflict, updates the given columns (SQLite and
PostgreSQL spell it the same: ``INSERT ... ON CONFLICT (...) DO UPDATE``); ``update_by_key``
updates many rows by primary key in one executemany. Both take plain dicts, the way the
repositories of batch handlers hold their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, and_, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

# PostgreSQL takes at most 32767 bound parameters in one statement.
_MAX_PARAMETERS = 30_000


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update_columns: Sequence[str] | None = None,
) -> None:
    """Insert ``rows``; where ``key`` already exists, set ``update_columns`` (default: every
    non-key column given) from the new row, or leave it alone when there is none to set."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    columns = list(rows[0])
    to_update = [c for c in (update_columns or columns) if c not in key]
    per_statement = max(1, _MAX_PARAMETERS // max(1, len(columns)))
    for start in range(0, len(rows), per_statement):
        statement: Any = dialect.insert(table).values(list(rows[start : start + per_statement]))
        if to_update:
            statement = statement.on_conflict_do_update(
                index_elements=list(key),
                set_={name: statement.excluded[name] for name in to_update},
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=list(key))
        with session.no_autoflush:
            await session.execute(statement)


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
