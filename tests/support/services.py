"""Run a service in-process on the real broker and a real database, with its lifespan."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from shared.app import ServiceRuntime
from shared.clock import Clock
from shared.migrations import upgrade_async

DEV_KEY = "test-dev-key-0123456789"
# A first group join waits about half the session timeout; keep it short on the test broker.
FAST_TEST_SETTINGS: dict[str, Any] = {
    "kafka_session_timeout_ms": 2000,
    "kafka_heartbeat_interval_ms": 500,
    "outbox_poll_interval_ms": 50,
}
AUTH = {"Authorization": f"Bearer {DEV_KEY}"}


@dataclass
class RunningService:
    app: FastAPI
    client: httpx.AsyncClient

    @property
    def runtime(self) -> ServiceRuntime:
        return self.app.state.runtime  # type: ignore[no-any-return]


def service_parts(name: str) -> tuple[Any, Any, Path]:
    package = importlib.import_module(f"services.{name}")
    app_module = importlib.import_module(f"services.{name}.app")
    settings_module = importlib.import_module(f"services.{name}.settings")
    settings_cls = next(
        value
        for key, value in vars(settings_module).items()
        if key.endswith("Settings") and key != "ServiceSettings"
    )
    return app_module.create_app, settings_cls, Path(package.__file__).parent / "migrations"


@asynccontextmanager
async def running_service(
    name: str,
    *,
    bootstrap: str,
    database_url: str,
    clock: Clock | None = None,
    **overrides: Any,
) -> AsyncIterator[RunningService]:
    create_app, settings_cls, migrations = service_parts(name)
    settings = settings_cls(
        kafka_bootstrap=bootstrap,
        kafka_idempotence=False,
        database_url=database_url,
        dev_api_key=DEV_KEY,
        log_json=False,
        **{**FAST_TEST_SETTINGS, **overrides},
    )
    await upgrade_async(migrations, database_url)
    app = create_app(settings, clock) if clock is not None else create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=f"http://{name}", headers=AUTH
        ) as client:
            yield RunningService(app, client)
