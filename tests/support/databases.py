"""A fresh database per test: SQLite in a temp dir, or a new PostgreSQL database when
``LOOPCRM_TEST_DATABASE_URL`` points at a server (CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

SERVER_URL_ENV = "LOOPCRM_TEST_DATABASE_URL"


def postgres_server_url() -> str | None:
    url = os.environ.get(SERVER_URL_ENV)
    return url or None


@asynccontextmanager
async def fresh_database(directory: Path, name: str) -> AsyncIterator[str]:
    server = postgres_server_url()
    if server is None:
        yield f"sqlite+aiosqlite:///{directory / f'{name}.db'}"
        return
    database = f"loopcrm_t_{name}_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{database}"'))
        yield make_url(server).set(database=database).render_as_string(hide_password=False)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        await admin.dispose()


def files_holding(directory: Path, text: str) -> list[str]:
    """The files under ``directory`` (a service's SQLite database, its write-ahead log...)
    whose bytes contain ``text``."""
    needle = text.encode()
    return sorted(
        str(path.relative_to(directory))
        for path in directory.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    )
