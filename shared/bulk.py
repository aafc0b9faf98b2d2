"""Set-based writes for batch handlers: one statement per table for a whole run.

``insert_rows`` adds rows, ``insert_new`` adds the rows whose key is new and says which,
``upsert`` inserts or, on a key conflict, updates (or adds to) the given columns, and
``update_by_key`` rewrites rows by key, ``delete_by_key`` deletes them. All take plain dicts
naming the same columns, the way the repositories of batch handlers hold their rows.

On PostgreSQL the rows travel as one JSON document, encoded by orjson, and the statement
reads them back as a typed record set (``INSERT ... SELECT FROM json_to_recordset(...)``,
``UPDATE ... FROM json_to_recordset(...)``): one round trip and one parameter. Encoding a
whole run in one call costs about a sixth of what binding one array per column costs the
driver (it inspects every element of an array in Python); the server spends a little more
reading JSON than arrays, on its own core. On SQLite they are an executemany of a cached
statement (SQLite is in-process, so there is no round trip to save). Statements are built
once per shape.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import JSON, ColumnElement, Table, TextClause, and_, bindparam, insert, text
from sqlalchemy import delete as sql_delete
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

Rows = Sequence[dict[str, Any]]


def on_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def insert_rows(session: AsyncSession, table: Table, rows: Rows) -> None:
    """Insert ``rows`` (all naming the same columns), in their order."""
    if not rows:
        return
    with session.no_autoflush:
        if on_postgresql(session):
            columns = tuple(rows[0])
            statement = _insert_from_document(table, columns, "", ())
            await session.execute(statement, {"rows": document(rows)})
        else:
            await session.execute(insert(table), list(rows))


async def insert_new(
    session: AsyncSession,
    table: Table,
    rows: Rows,
    *,
    returning: Sequence[str],
    key: Sequence[str] | None = None,
    fill: Sequence[str] = (),
    fill_when_null: str | None = None,
) -> list[tuple[Any, ...]]:
    """Insert the ``rows`` whose ``key`` (default: the primary key) is new, no key twice;
    returns their ``returning`` columns. A row already there whose ``fill_when_null`` column is
    null takes the new row's ``fill`` columns, and is returned too."""
    if not rows:
        return []
    key = tuple(key or (column.name for column in table.primary_key))
    fill = tuple(fill) if fill_when_null else ()
    with session.no_autoflush:
        if on_postgresql(session):
            columns = tuple(rows[0])
            where = f" WHERE t.{fill_when_null} IS NULL" if fill else ""
            conflict = _on_conflict(key, fill, ()) + where
            statement = _insert_from_document(table, columns, conflict, tuple(returning))
            result = await session.execute(statement, {"rows": document(rows)})
        else:
            returned = tuple(returning)
            sqlite_statement = _sqlite_insert_new(table, key, returned, fill, fill_when_null)
            result = await session.execute(sqlite_statement, list(rows))
        return [tuple(row) for row in result]


async def upsert(
    session: AsyncSession,
    table: Table,
    rows: Rows,
    *,
    key: Sequence[str],
    update_columns: Sequence[str] | None = None,
    add_columns: Sequence[str] = (),
    unless_newer: str | None = None,
) -> None:
    """Insert ``rows`` (no key twice); where ``key`` already exists, set ``update_columns``
    (default: every non-key column given but ``add_columns``) from the new row and add the new
    row's ``add_columns`` to the stored ones; leave the row alone when there is nothing to set,
    or when its ``unless_newer`` column is later than the new row's (another writer stored a
    later fact meanwhile)."""
    if not rows:
        return
    key, add = tuple(key), tuple(add_columns)
    columns = tuple(rows[0])
    given = update_columns if update_columns is not None else columns
    to_set = tuple(c for c in given if c not in key and c not in add)
    with session.no_autoflush:
        if on_postgresql(session):
            conflict = _on_conflict(key, to_set, add)
            if unless_newer is not None and "DO UPDATE" in conflict:
                conflict += f" WHERE t.{unless_newer} <= EXCLUDED.{unless_newer}"
            statement = _insert_from_document(table, columns, conflict, ())
            await session.execute(statement, {"rows": document(rows)})
        else:
            statement = _sqlite_upsert(table, key, to_set, add, unless_newer)
            await session.execute(statement, list(rows))


async def update_by_key(
    session: AsyncSession, table: Table, rows: Rows, *, key: Sequence[str]
) -> None:
    """``UPDATE table SET <other columns> WHERE <key columns> = ...`` for every row (all naming
    the same columns); a row not there is not written."""
    if not rows:
        return
    key = tuple(key)
    columns = tuple(rows[0])
    with session.no_autoflush:
        if on_postgresql(session):
            statement = _update_from_document(table, columns, key)
            await session.execute(statement, {"rows": document(rows)})
            return
        values = tuple(name for name in columns if name not in key)
        parameters = [
            {**{f"key_{n}": row[n] for n in key}, **{f"new_{n}": row[n] for n in values}}
            for row in rows
        ]
        await session.execute(_sqlite_update(table, key, values), parameters)


async def delete_by_key(session: AsyncSession, table: Table, keys: Rows) -> None:
    """``DELETE FROM table WHERE <columns> = ...`` for every row of ``keys`` (all naming the
    same key columns). On PostgreSQL a join with the document: a list of key tuples in the
    statement (``(a, b) IN ((...), ...)``) costs the planner time that grows with the list,
    a third of a second for a few thousand pairs."""
    if not keys:
        return
    columns = tuple(keys[0])
    with session.no_autoflush:
        if on_postgresql(session):
            statement = _delete_from_document(table, columns)
            await session.execute(statement, {"rows": document(keys)})
            return
        parameters = [{f"key_{n}": row[n] for n in columns} for row in keys]
        await session.execute(_sqlite_delete(table, columns), parameters)


# PostgreSQL: the rows as one JSON document.


def document(rows: Rows) -> str:
    """The rows as the one JSON document a PostgreSQL set write reads (see the module)."""
    # Naive datetimes are UTC, as the driver takes them; Decimal travels as its exact text.
    return orjson.dumps(rows, default=_exact, option=orjson.OPT_NAIVE_UTC).decode()


def _exact(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value")


def _on_conflict(key: tuple[str, ...], to_set: tuple[str, ...], add: tuple[str, ...]) -> str:
    assignments = [f"{name} = EXCLUDED.{name}" for name in to_set]
    assignments += [f"{name} = t.{name} + EXCLUDED.{name}" for name in add]
    if not assignments:
        return f"ON CONFLICT ({', '.join(key)}) DO NOTHING"
    return f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(assignments)}"


@functools.cache
def _insert_from_document(
    table: Table, columns: tuple[str, ...], conflict: str, returning: tuple[str, ...]
) -> TextClause:
    returned = f" RETURNING {', '.join(f't.{name}' for name in returning)}" if returning else ""
    # WITH ORDINALITY + ORDER BY: rows are inserted in the order given (sequence columns and
    # the ledger's order depend on it).
    return text(
        f"INSERT INTO {table.name} AS t ({', '.join(columns)}) "
        f"SELECT {', '.join(f'v.{name}' for name in columns)} "
        f"FROM {_record_set(table, columns, ordinality=True)} ORDER BY v.ordinality "
        f"{conflict}{returned}"
    )


@functools.cache
def _update_from_document(
    table: Table, columns: tuple[str, ...], key: tuple[str, ...]
) -> TextClause:
    values = (name for name in columns if name not in key)
    assignments = ", ".join(f"{name} = v.{name}" for name in values)
    matches = " AND ".join(f"{table.name}.{name} = v.{name}" for name in key)
    return text(
        f"UPDATE {table.name} SET {assignments} "
        f"FROM {_record_set(table, columns, ordinality=False)} WHERE {matches}"
    )


@functools.cache
def _delete_from_document(table: Table, columns: tuple[str, ...]) -> TextClause:
    matches = " AND ".join(f"{table.name}.{name} = v.{name}" for name in columns)
    return text(
        f"DELETE FROM {table.name} "
        f"USING {_record_set(table, columns, ordinality=False)} WHERE {matches}"
    )


def _record_set(table: Table, columns: tuple[str, ...], *, ordinality: bool) -> str:
    # The document is bound as text: a JSON-typed parameter would be encoded once more.
    rows = "json_to_recordset(CAST(CAST(:rows AS TEXT) AS JSON))"
    typed = ", ".join(f"{name} {_column_type(table, name)}" for name in columns)
    if not ordinality:
        return f"{rows} AS v({typed})"
    return f"ROWS FROM ({rows} AS ({typed})) WITH ORDINALITY AS v({', '.join(columns)}, ordinality)"


def _column_type(table: Table, name: str) -> str:
    column_type = table.c[name].type
    if isinstance(column_type, JSON):
        return "JSON"
    return str(column_type.compile(dialect=postgresql.dialect()))


# SQLite: an executemany of a cached statement.


@functools.cache
def _sqlite_insert_new(
    table: Table,
    key: tuple[str, ...],
    returning: tuple[str, ...],
    fill: tuple[str, ...],
    fill_when_null: str | None,
) -> Any:
    statement: Any = sqlite.insert(table)
    returned = [table.c[name] for name in returning]
    if fill_when_null is None or not fill:
        return statement.on_conflict_do_nothing(index_elements=list(key)).returning(*returned)
    where: ColumnElement[bool] = table.c[fill_when_null].is_(None)
    return statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: statement.excluded[name] for name in fill},
        where=where,
    ).returning(*returned)


@functools.cache
def _sqlite_upsert(
    table: Table,
    key: tuple[str, ...],
    to_set: tuple[str, ...],
    add: tuple[str, ...],
    unless_newer: str | None,
) -> Any:
    statement: Any = sqlite.insert(table)
    assignments = {name: statement.excluded[name] for name in to_set}
    assignments.update({name: table.c[name] + statement.excluded[name] for name in add})
    if not assignments:
        return statement.on_conflict_do_nothing(index_elements=list(key))
    where = None
    if unless_newer is not None:
        where = table.c[unless_newer] <= statement.excluded[unless_newer]
    return statement.on_conflict_do_update(index_elements=list(key), set_=assignments, where=where)


@functools.cache
def _sqlite_update(table: Table, key: tuple[str, ...], values: tuple[str, ...]) -> Any:
    return (
        sql_update(table)
        .where(_key_matches(table, key))
        .values({name: bindparam(f"new_{name}") for name in values})
    )


@functools.cache
def _sqlite_delete(table: Table, key: tuple[str, ...]) -> Any:
    return sql_delete(table).where(_key_matches(table, key))


def _key_matches(table: Table, key: tuple[str, ...]) -> ColumnElement[bool]:
    """The row whose key columns equal the parameters ``key_<column>``."""
    return and_(*(table.c[name] == bindparam(f"key_{name}") for name in key))
