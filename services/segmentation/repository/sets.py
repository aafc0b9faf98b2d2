"""Set-based writes of a whole run or chunk, each one statement built once per shape.

On PostgreSQL the rows travel as one array per column and the statement unnests them
(``INSERT ... SELECT FROM unnest(...) ON CONFLICT``, ``UPDATE ... FROM unnest(...)``): one
round trip, one parameter per column, nothing done per row in Python but the JSON columns'
encoding (an executemany processes every value of every row). On SQLite they are the kit's
executemany of a cached statement (``shared.bulk``), or one of the same kind here when the
kit has none (an insert that returns what it inserted).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import JSON, ColumnElement, Table, TextClause, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared import bulk

Rows = Sequence[dict[str, Any]]


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Rows,
    *,
    key: tuple[str, ...],
    update: tuple[str, ...] | None = None,
) -> None:
    """Insert ``rows`` (all naming the same columns, no key twice); where ``key`` exists, set
    ``update`` (default: every other column given) from the new row."""
    if not rows:
        return
    columns = tuple(rows[0])
    to_update = update if update is not None else tuple(c for c in columns if c not in key)
    if dialect_name(session) != "postgresql":
        await bulk.upsert(session, table, rows, key=key, update_columns=to_update)
        return
    statement = _insert_from_arrays(table, columns, _on_conflict(key, to_update), ())
    await session.execute(statement, _arrays(table, columns, rows))


async def insert_new(
    session: AsyncSession,
    table: Table,
    rows: Rows,
    *,
    returning: tuple[str, ...],
    fill: tuple[str, ...] = (),
    fill_when_null: str | None = None,
) -> list[tuple[Any, ...]]:
    """Insert the ``rows`` whose primary key is new (no key twice); returns their
    ``returning`` columns. A row already there whose ``fill_when_null`` column is null takes
    the new row's ``fill`` columns, and is returned too."""
    if not rows:
        return []
    columns = tuple(rows[0])
    key = tuple(column.name for column in table.primary_key)
    if dialect_name(session) == "postgresql":
        where = f" WHERE {table.name}.{fill_when_null} IS NULL" if fill_when_null else ""
        conflict = _on_conflict(key, fill if fill_when_null else ()) + where
        statement = _insert_from_arrays(table, columns, conflict, returning)
        result = await session.execute(statement, _arrays(table, columns, rows))
    else:
        sqlite_statement = _sqlite_insert_new(table, returning, fill, fill_when_null)
        result = await session.execute(sqlite_statement, list(rows))
    return [tuple(row) for row in result]


async def update_by_key(session: AsyncSession, table: Table, rows: Rows, *, key: str) -> None:
    """Rewrite rows by primary key (all naming the same columns); a row not there is not
    written."""
    if not rows:
        return
    if dialect_name(session) != "postgresql":
        await bulk.update_by_key(session, table, rows, key=[key])
        return
    columns = tuple(rows[0])
    await session.execute(_update_from_arrays(table, columns, key), _arrays(table, columns, rows))


def _arrays(table: Table, columns: tuple[str, ...], rows: Rows) -> dict[str, list[Any]]:
    arrays: dict[str, list[Any]] = {}
    for name in columns:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, JSON):
            values = [None if value is None else json.dumps(value) for value in values]
        arrays[name] = values
    return arrays


def _on_conflict(key: tuple[str, ...], to_update: tuple[str, ...]) -> str:
    if not to_update:
        return f"ON CONFLICT ({', '.join(key)}) DO NOTHING"
    assignments = ", ".join(f"{name} = EXCLUDED.{name}" for name in to_update)
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {assignments}"


@cache
def _insert_from_arrays(
    table: Table, columns: tuple[str, ...], conflict: str, returning: tuple[str, ...]
) -> TextClause:
    returned = f" RETURNING {', '.join(returning)}" if returning else ""
    return text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT {_values(table, columns)} FROM {_unnest(table, columns)} {conflict}{returned}"
    )


@cache
def _update_from_arrays(table: Table, columns: tuple[str, ...], key: str) -> TextClause:
    assignments = ", ".join(f"{name} = {_value(table, name)}" for name in columns if name != key)
    return text(
        f"UPDATE {table.name} SET {assignments} FROM {_unnest(table, columns)} "
        f"WHERE {table.name}.{key} = v.{key}"
    )


def _unnest(table: Table, columns: tuple[str, ...]) -> str:
    arrays = ", ".join(f"CAST(:{name} AS {_array_type(table, name)}[])" for name in columns)
    return f"unnest({arrays}) AS v({', '.join(columns)})"


def _values(table: Table, columns: tuple[str, ...]) -> str:
    return ", ".join(_value(table, name) for name in columns)


def _value(table: Table, name: str) -> str:
    return f"CAST(v.{name} AS JSON)" if isinstance(table.c[name].type, JSON) else f"v.{name}"


def _array_type(table: Table, name: str) -> str:
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return "TEXT"
    return str(column_type.compile(dialect=postgresql.dialect()))


@cache
def _sqlite_insert_new(
    table: Table,
    returning: tuple[str, ...],
    fill: tuple[str, ...],
    fill_when_null: str | None,
) -> Any:
    key = [column.name for column in table.primary_key]
    statement: Any = sqlite.insert(table)
    returned = [table.c[name] for name in returning]
    if fill_when_null is None or not fill:
        return statement.on_conflict_do_nothing(index_elements=key).returning(*returned)
    where: ColumnElement[bool] = table.c[fill_when_null].is_(None)
    return statement.on_conflict_do_update(
        index_elements=key,
        set_={name: statement.excluded[name] for name in fill},
        where=where,
    ).returning(*returned)
