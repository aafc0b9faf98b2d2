"""The one harness for running a service's handlers and API on a real database, no broker.

    async with service_harness("engagement", tmp_path, clock=clock) as svc:
        outcomes = await svc.deliver(events.complaint_opened(customer_id="c-1"))
        assert [e.type for e in await svc.published()] == ["silence.started", ...]
        response = await svc.client.get("/v1/customers/c-1/silence")

Events go through the real path: encoded as a storefront would, decoded and validated by the
kit, claimed in the inbox and applied by the service's declared handlers in one transaction,
exactly as the consumer runner does. What the service published is read from its outbox.
The database is SQLite (a migrated template copied per test) or, for integration tests that
ask for it, a fresh PostgreSQL database when ``LOOPCRM_TEST_DATABASE_URL`` names a server.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, select

from shared.app import ServiceRuntime, attach_runtime
from shared.clock import Clock, FixedClock
from shared.events.envelope import CloudEvent, EventDecodeError, decode_message
from shared.migrations import upgrade_async
from shared.tables import outbox
from shared.transaction import Transaction
from tests.support.databases import fresh_database, postgres_server_url
from tests.support.services import AUTH, DEV_KEY, service_parts

_TEMPLATES: dict[str, Path] = {}


@dataclass
class ServiceHarness:
    app: FastAPI
    runtime: ServiceRuntime
    client: httpx.AsyncClient
    clock: Clock

    @property
    def context(self) -> Any:
        return self.runtime.context

    async def deliver(self, *events: Mapping[str, Any] | bytes) -> list[str]:
        """Apply the events as one run (one transaction, like a consumer's batch); each one's
        outcome: "handled", "duplicate" or "rejected:<reason>" (it would be dead-lettered)."""
        decoded: list[Any] = []
        outcomes: dict[int, str] = {}
        for index, event in enumerate(events):
            value = event if isinstance(event, bytes) else json.dumps(event).encode()
            try:
                decoded.append((index, decode_message(value, [], self.runtime.applier.data_models)))
            except EventDecodeError as exc:
                outcomes[index] = f"rejected:{exc.reason}"
        if decoded:
            applied = await self.runtime.applier.apply([typed for _, typed in decoded])
            outcomes.update({index: o for (index, _), o in zip(decoded, applied, strict=True)})
        return [outcomes[index] for index in range(len(events))]

    async def deliver_each(self, *events: Mapping[str, Any]) -> list[str]:
        """Apply the events one per transaction, as a run redone after a failure is."""
        return [outcome for event in events for outcome in await self.deliver(event)]

    def transaction(self, now: datetime | None = None) -> AbstractAsyncContextManager[Transaction]:
        return self.runtime.transaction(now)

    async def published(self, event_type: str | None = None) -> list[CloudEvent]:
        """What the service wrote to its outbox, oldest first (optionally of one type)."""
        query = select(outbox.c.payload).order_by(outbox.c.seq)
        if event_type is not None:
            query = query.where(outbox.c.topic == event_type)
        async with self.runtime.sessions() as session:
            payloads = (await session.scalars(query)).all()
        return [CloudEvent.model_validate_json(payload) for payload in payloads]

    async def forget_published(self) -> None:
        async with self.runtime.sessions() as session, session.begin():
            await session.execute(delete(outbox))

    async def run_task(self, name: str) -> None:
        """Run one of the service's periodic tasks once, at the clock's time."""
        task = next(t for t in self.app.state.spec.tasks if t.name == name)
        await self.runtime.run_task_once(task)


async def _migrated_sqlite(name: str, directory: Path) -> str:
    """A copy of a migrated SQLite database of the service (migrations run once per session)."""
    template = _TEMPLATES.get(name)
    if template is None:
        folder = Path(tempfile.mkdtemp(prefix=f"loopcrm-{name}-template-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / f"{name}.db"
        _create_app, _settings, migrations = service_parts(name)
        await upgrade_async(migrations, f"sqlite+aiosqlite:///{template}")
        _TEMPLATES[name] = template
    target = directory / f"{name}.db"
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


@asynccontextmanager
async def service_harness(
    name: str,
    directory: Path,
    *,
    clock: Clock | None = None,
    on_server: bool = False,
    **settings_overrides: Any,
) -> AsyncIterator[ServiceHarness]:
    """The service ``name`` built by its own ``create_app``, its runtime attached, nothing
    running in the background. Its database is SQLite in ``directory`` (the fast tier) or,
    ``on_server`` and with ``LOOPCRM_TEST_DATABASE_URL`` set, a fresh PostgreSQL database."""
    create_app, settings_cls, migrations = service_parts(name)
    clock = clock or FixedClock(datetime.fromisoformat("2025-06-01T09:00:00+00:00"))
    async with _database(name, directory, migrations, on_server=on_server) as url:
        settings = settings_cls(
            database_url=url,
            dev_api_key=DEV_KEY,
            log_json=False,
            kafka_bootstrap="127.0.0.1:1",
            **settings_overrides,
        )
        app = create_app(settings, clock)
        runtime = attach_runtime(app)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(
                transport=transport, base_url=f"http://{name}", headers=AUTH
            ) as client:
                yield ServiceHarness(app, runtime, client, clock)
        finally:
            await runtime.engine.dispose()


@asynccontextmanager
async def _database(
    name: str, directory: Path, migrations: Path, *, on_server: bool
) -> AsyncIterator[str]:
    if not on_server or postgres_server_url() is None:
        yield await _migrated_sqlite(name, directory)
        return
    async with fresh_database(directory, name) as url:
        await upgrade_async(migrations, url)
        yield url
