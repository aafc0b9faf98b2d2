"""Alembic, driven from code: each service keeps its scripts in ``services/<name>/migrations``."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection

from shared.db import UtcDateTime, create_engine

_MIGRATION_LOCK = 0x6D696772


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    """Apply migrations (blocking; from async code run it in a thread)."""
    command.upgrade(alembic_config(script_location, database_url), revision)


async def upgrade_async(script_location: Path, database_url: str) -> None:
    await asyncio.to_thread(upgrade, script_location, database_url)


def run_env(target_metadata: list[MetaData]) -> None:
    """The body of every service's ``env.py``."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.config.config_file_name is not None and os.environ.get("LOOPCRM_DATABASE_URL"):
        url = os.environ["LOOPCRM_DATABASE_URL"]  # `alembic -n <service>` on a real database
    assert url, "sqlalchemy.url is not set"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, target_metadata))


async def _run_online(url: str, target_metadata: list[MetaData]) -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # Replicas starting together take turns; the later ones find nothing to do.
            await connection.execute(
                text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK}
            )
            await connection.commit()
        try:
            await connection.run_sync(_migrate, target_metadata)
            await connection.commit()
        finally:
            if postgres:
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK}
                )
                await connection.commit()
    await engine.dispose()


def _migrate(connection: Connection, target_metadata: list[MetaData]) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations stay plain SQLAlchemy: the UTC decorator is a Python-side concern.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False
