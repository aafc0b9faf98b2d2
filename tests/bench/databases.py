"""A fresh database per service: PostgreSQL (created, then dropped) or SQLite files."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from sqlalchemy import bindparam, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

PREFIX = "loopcrm_bench_"
# A CREATE DATABASE cut short on the client side may still finish on the server.
_IN_FLIGHT = text(
    "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
    "AND state = 'active' AND query LIKE :pattern"
)
_EXISTING = text("SELECT datname FROM pg_database WHERE datname IN :names").bindparams(
    bindparam("names", expanding=True)
)


class Databases:
    """A fresh database per service: PostgreSQL on ``server_url`` (dropped by ``drop_all``),
    or SQLite files under ``directory``."""

    def __init__(self, server_url: str | None, directory: Path) -> None:
        self.server_url = server_url
        self.directory = directory
        self._created: list[str] = []

    @property
    def kind(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    async def create(self, name: str) -> str:
        if self.server_url is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{name}_{uuid.uuid4().hex[:8]}.db"
            return f"sqlite+aiosqlite:///{path}"
        database = f"{PREFIX}{name}_{uuid.uuid4().hex[:10]}"
        # Noted first: if the creation is interrupted, drop_all still looks for it.
        self._created.append(database)
        admin = create_async_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{database}"'))
        finally:
            await admin.dispose()
        url = make_url(self.server_url).set(database=database)
        return url.render_as_string(hide_password=False)

    async def drop_all(self, settle_s: float = 15.0) -> list[str]:
        """Drop every database created here (after any creation still running on the server
        ends); the names still there afterwards."""
        names = list(self._created)
        if not names or self.server_url is None:
            return []
        admin = create_async_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                left = await _drop(connection, names, settle_s)
        except Exception:
            return names
        finally:
            await admin.dispose()
        # Forgotten only once gone: an interrupted drop leaves them for the next one.
        self._created = [name for name in self._created if name not in names or name in left]
        return left


async def _drop(connection: AsyncConnection, names: list[str], settle_s: float) -> list[str]:
    deadline = time.monotonic() + settle_s
    while time.monotonic() < deadline:
        creating = await connection.scalar(_IN_FLIGHT, {"pattern": f"CREATE DATABASE%{PREFIX}%"})
        if not creating:
            break
        await asyncio.sleep(0.2)
    for name in names:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return list((await connection.scalars(_EXISTING, {"names": names})).all())
