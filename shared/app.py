"""The app factory every service uses: lifespan wiring, health, readiness, metrics, errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.auth import KeyRing
from shared.clock import Clock, SystemClock
from shared.db import create_engine, create_session_factory, ping
from shared.errors import install_error_handlers
from shared.logging import configure_logging
from shared.messaging.consumer import ConsumerConfig, ConsumerRunner, EventHandler
from shared.messaging.publisher import Publisher
from shared.metrics import ServiceMetrics
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

NextHandler = Callable[[Request], Awaitable[Response]]
UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]
TaskBody = Callable[[AsyncSession, datetime], Awaitable[None]]
JobBody = Callable[[UnitOfWork, datetime], Awaitable[None]]


@dataclass(frozen=True)
class PeriodicTask:
    """Work a service does on a schedule, as a function of (session, now) in one transaction."""

    name: str
    interval_s: float
    run: TaskBody


@dataclass(frozen=True)
class PeriodicJob:
    """Scheduled work that opens its own short transactions, as a function of (unit of work,
    now): for work that waits on the outside world and must hold no lock meanwhile."""

    name: str
    interval_s: float
    run: JobBody


Scheduled = PeriodicTask | PeriodicJob


@dataclass
class ServiceSpec:
    settings: ServiceSettings
    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    handlers: Mapping[str, EventHandler] = field(default_factory=dict)
    tasks: Sequence[Scheduled] = ()
    clock: Clock = field(default_factory=SystemClock)
    metrics: ServiceMetrics | None = None
    """The service's metrics, when it adds collectors of its own to the registry."""


class ServiceRuntime:
    """What a running service holds; routes reach it as ``request.app.state.runtime``."""

    def __init__(self, spec: ServiceSpec, engine: AsyncEngine, metrics: ServiceMetrics) -> None:
        settings = spec.settings
        self.settings = settings
        self.clock = spec.clock
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = create_session_factory(engine)
        self.metrics = metrics
        client_id = f"loopcrm-{settings.service_name}"
        self.publisher = Publisher(
            settings.kafka_bootstrap, idempotence=settings.kafka_idempotence, client_id=client_id
        )
        self.relay = OutboxRelay(
            engine,
            self.sessions,
            self.publisher,
            metrics,
            self.clock,
            batch_size=settings.outbox_batch_size,
            poll_interval=settings.outbox_poll_interval_ms / 1000,
        )
        self.dead_letter_publisher = Publisher(
            settings.kafka_bootstrap,
            idempotence=settings.kafka_idempotence,
            client_id=f"{client_id}-dlq",
        )
        self.consumer = ConsumerRunner(
            ConsumerConfig(
                bootstrap=settings.kafka_bootstrap,
                group_id=settings.consumer_group,
                client_id=client_id,
                batch_size=settings.consumer_batch_size,
                transaction_size=settings.consumer_transaction_size,
                max_attempts=settings.consumer_max_attempts,
                backoff_s=settings.consumer_retry_backoff_ms / 1000,
                backoff_max_s=settings.consumer_retry_backoff_max_ms / 1000,
                fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
                session_timeout_ms=settings.kafka_session_timeout_ms,
                heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            ),
            handlers=spec.handlers,
            sessions=self.sessions,
            dead_letters=self.dead_letter_publisher,
            metrics=metrics,
            clock=self.clock,
            on_outbox_written=self.relay.notify,
        )
        self._tasks = spec.tasks
        self._background: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success, roll back on error, wake the relay if needed."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            if session.info.get("outbox_written"):
                self.relay.notify()

    async def run_task_once(self, task: Scheduled) -> None:
        if isinstance(task, PeriodicJob):
            await task.run(self.transaction, self.clock.now())
            return
        async with self.transaction() as session:
            await task.run(session, self.clock.now())

    async def start(self) -> None:
        spawn = self._background.append
        spawn(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self.settings.consumers_enabled and self.consumer.topics:
            spawn(asyncio.create_task(self.consumer.run(), name="consumer"))
        if self.settings.tasks_enabled:
            for task in self._tasks:
                spawn(asyncio.create_task(self._every(task), name=f"task-{task.name}"))

    async def _every(self, task: Scheduled) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=task.interval_s)
            if self._stopping.is_set():
                return
            try:
                await self.run_task_once(task)
                self.metrics.task_runs.labels(task=task.name, outcome="ok").inc()
            except Exception:
                self.metrics.task_runs.labels(task=task.name, outcome="failed").inc()
                log.exception("periodic task failed", extra={"task": task.name})

    async def stop(self) -> None:
        # Consumer first (it finishes the batch in hand and commits), then tasks, then one last
        # relay pass so events written on the way down leave if the broker is there.
        self._stopping.set()
        self.consumer.stop()
        self.relay.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*self._background, return_exceptions=True), timeout=20
            )
        for task in self._background:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.relay.relay_once(), timeout=3)
        await self.relay.close()
        await self.publisher.close()
        await self.dead_letter_publisher.close()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(ping(self.engine), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        checks["broker"] = (
            "ok" if await _broker_reachable(self.settings.kafka_bootstrap) else ("unreachable")
        )
        return checks


async def _broker_reachable(bootstrap: str) -> bool:
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host or "127.0.0.1", int(port)), timeout=1
            )
        except (OSError, TimeoutError, ValueError, socket.gaierror):
            continue
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        return True
    return False


def runtime_of(request: Request) -> ServiceRuntime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime_of)]
"""A route parameter that receives the running service: ``runtime: RuntimeDep``."""


def create_service_app(spec: ServiceSpec) -> FastAPI:
    settings = spec.settings
    metrics = spec.metrics or ServiceMetrics(settings.service_name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level, settings.log_json)
        runtime = ServiceRuntime(spec, create_engine(settings.resolved_database_url()), metrics)
        app.state.runtime = runtime
        await runtime.start()
        log.info("service started", extra={"port": settings.http_port})
        try:
            yield
        finally:
            await runtime.stop()
            log.info("service stopped")

    app = FastAPI(
        title=f"loopcrm {spec.title}",
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.keyring = KeyRing(settings.api_keys, settings.dev_api_key)
    app.state.metrics = metrics
    app.state.settings = settings
    install_error_handlers(app)
    _install_http_metrics(app, metrics)
    app.include_router(_operations_router())
    for router in spec.routers:
        app.include_router(router)
    return app


def _install_http_metrics(app: FastAPI, metrics: ServiceMetrics) -> None:
    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.http_requests.labels(request.method, template, str(status)).inc()
            metrics.http_latency.labels(request.method, template).observe(
                time.perf_counter() - started
            )


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        checks = await request.app.state.runtime.readiness()
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        body, content_type = request.app.state.metrics.exposition()
        return Response(body, media_type=content_type)

    return router
