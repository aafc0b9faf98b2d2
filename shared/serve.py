"""``python -m services.<name>``: apply the service's migrations, then serve it with uvicorn."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from shared.migrations import upgrade
from shared.settings import ServiceSettings


def serve(
    settings: ServiceSettings,
    create_app: Callable[..., FastAPI],
    migrations: Path,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m services.{settings.service_name}")
    parser.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
    args = parser.parse_args(argv)
    if not args.no_migrate:
        upgrade(migrations, settings.resolved_database_url())
    app = create_app(settings)
    # Objects made at start-up live as long as the process: keep the collector off them, and
    # let it run less often (batches allocate many short-lived objects at once).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )
