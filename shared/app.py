"""The app factory every service uses: lifespan wiring, health, readiness, metrics, errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api_document import install_api_document
from shared.auth import KeyRing
from shared.clock import Clock, SystemClock
from shared.db import create_engine, create_session_factory, ping, read_options
from shared.errors import install_error_handlers
from shared.keyed_reads import KeyedReads
from shared.logging import configure_logging
from shared.messaging.broker_check import broker_state
from shared.messaging.consumer import ConsumerConfig, ConsumerRunner, EventApplier
from shared.messaging.publisher import Publisher
from shared.metrics import ServiceMetrics
from shared.nul_guard import RefuseNulCharacters
from shared.outbox import OutboxRelay
from shared.settings import ServiceSettings
from shared.subscriptions import Subscriptions
from shared.transaction import Transaction, TransactionFactory

log = logging.getLogger(__name__)
access_log = logging.getLogger("loopcrm.access")

TransactionOpener = Callable[[], AbstractAsyncContextManager[Transaction]]
TaskBody = Callable[[TransactionOpener, datetime], Awaitable[None]]


@dataclass(frozen=True)
class PeriodicTask:
    """Work a service does on a schedule: ``run(begin, now)``, where ``async with begin() as
    tx`` opens a transaction at business time ``now``. Work that finishes in one transaction
    opens one; a sweep opens one per set until nothing is due; work that waits on the
    outside world opens short ones around the wait, so it holds no lock meanwhile."""

    name: str
    interval_s: float
    run: TaskBody


@dataclass
class ServiceSpec:
    settings: ServiceSettings
    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    subscriptions: Subscriptions[Any] | None = None
    context: Any = None
    """What the service's handlers and routes receive (its ``context.py``)."""
    tasks: Sequence[PeriodicTask] = ()
    clock: Clock = field(default_factory=SystemClock)
    metrics: ServiceMetrics | None = None
    """The service's metrics, when it adds collectors of its own to the registry."""


class ServiceRuntime:
    """What a running service holds; routes receive it as ``runtime: RuntimeDep``."""

    def __init__(self, spec: ServiceSpec, engine: AsyncEngine, metrics: ServiceMetrics) -> None:
        settings = spec.settings
        self.settings = settings
        self.clock = spec.clock
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = create_session_factory(engine)
        self.keyed_reads = KeyedReads(
            settings.resolved_database_url(),
            self.read_rows,
            pool_size=settings.keyed_read_pool_size,
        )
        self.metrics = metrics
        self.context = spec.context
        subscriptions = spec.subscriptions
        client_id = f"loopcrm-{settings.service_name}"
        self.publisher = Publisher(
            settings.kafka_bootstrap,
            idempotence=settings.kafka_idempotence,
            client_id=client_id,
            max_request_bytes=settings.kafka_max_request_bytes,
        )
        self.relay = OutboxRelay(
            engine,
            self.sessions,
            self.publisher,
            metrics,
            self.clock,
            batch_size=settings.outbox_batch_size,
            poll_interval=settings.outbox_poll_interval_ms / 1000,
            linger=settings.outbox_relay_linger_ms / 1000,
        )
        self.dead_letter_publisher = Publisher(
            settings.kafka_bootstrap,
            idempotence=settings.kafka_idempotence,
            client_id=f"{client_id}-dlq",
            max_request_bytes=settings.kafka_max_request_bytes,
        )
        self.transactions = TransactionFactory(
            self.sessions,
            source=settings.event_source,
            publishes=subscriptions.publishes if subscriptions else frozenset(),
            on_outbox_written=self.relay.notify,
        )
        urgent = set(subscriptions.urgent if subscriptions else ())
        self.applier = EventApplier(
            subscriptions.bind(spec.context) if subscriptions else {},
            self.transactions,
            self.clock,
            urgent,
            subscriptions.data_models if subscriptions else None,
        )
        config = ConsumerConfig.from_settings(settings)
        lanes = [(config, sorted(set(self.applier.handlers) - urgent))]
        if urgent:
            lanes.append((config.urgent(settings), sorted(urgent)))
        self.consumers = [
            ConsumerRunner(
                lane_config,
                applier=self.applier,
                topics=topics,
                dead_letters=self.dead_letter_publisher,
                metrics=metrics,
                clock=self.clock,
            )
            for lane_config, topics in lanes
            if topics
        ]
        self._tasks = spec.tasks
        self._background: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def transaction(self, now: datetime | None = None) -> AbstractAsyncContextManager[Transaction]:
        """One unit of work at business time ``now`` (the clock's, by default): commit on
        success, roll back on error, wake the relay if it published."""
        return self.transactions.begin(now or self.clock.now())

    def read(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A read-only session for queries (never queues behind writers on SQLite)."""
        return self.transactions.read()

    @contextlib.asynccontextmanager
    async def read_rows(self) -> AsyncIterator[AsyncConnection]:
        """``read`` without the ORM: a connection for Core statements, for the hottest reads
        (the customer 360), where a session's own work costs a fifth of the request."""
        async with self.engine.connect() as connection:
            await connection.execution_options(**read_options(self.engine.dialect.name))
            yield connection

    async def run_task_once(self, task: PeriodicTask) -> None:
        now = self.clock.now()
        await task.run(lambda: self.transactions.begin(now), now)

    async def start(self) -> None:
        await self.keyed_reads.start()
        spawn = self._background.append
        spawn(asyncio.create_task(self.relay.run(), name="outbox-relay"))
        if self.settings.consumers_enabled:
            for consumer in self.consumers:
                spawn(asyncio.create_task(consumer.run(), name=f"consumer-{consumer.group_id}"))
        if self.settings.tasks_enabled:
            for task in self._tasks:
                spawn(asyncio.create_task(self._every(task), name=f"task-{task.name}"))

    async def _every(self, task: PeriodicTask) -> None:
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
        for consumer in self.consumers:
            consumer.stop()
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
        await self.keyed_reads.close()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state, "ok" when usable: the database answers a query, a broker
        answers a metadata request (an open port is not enough: a frozen broker still accepts
        connections), and every consumer lane has joined its group and been given its share of
        the partitions (until then the first events would only wait)."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(ping(self.engine), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        checks["broker"] = await broker_state(self.settings.kafka_bootstrap)
        if self.settings.consumers_enabled and self.consumers:
            joined = all(consumer.joined.is_set() for consumer in self.consumers)
            checks["consumer"] = "ok" if joined else "joining its group"
            checks["consumer_progress"] = _progress(self.consumers)
        return checks


_STALLED_AFTER_S = 60.0
DEGRADING = frozenset({"consumer_progress"})
"""Checks that, failing, leave the service ready (its API works) but say it is degraded."""


def _progress(consumers: Sequence[ConsumerRunner]) -> str:
    """ "ok", or which lane has held the same batch for over a minute (an outage being
    retried, a dead letter that cannot be sent): its events wait, and its lag shows it."""
    now = asyncio.get_running_loop().time()
    for consumer in consumers:
        since = consumer.batch_since
        if since is not None and now - since > _STALLED_AFTER_S:
            return f"{consumer.group_id}: no batch done for {now - since:.0f} s"
    return "ok"


def readiness_answer(checks: dict[str, str]) -> tuple[str, int]:
    """The status and HTTP code of /readyz for these checks."""
    failing = {name for name, state in checks.items() if state != "ok"}
    if failing - DEGRADING:
        return "not_ready", 503
    return ("degraded" if failing else "ready"), 200


def _running(request: Request) -> ServiceRuntime:
    runtime = request.app.state.runtime
    if not isinstance(runtime, ServiceRuntime):
        raise RuntimeError("the service is not running")
    return runtime


async def runtime_of(request: Request) -> ServiceRuntime:
    # Dependencies are coroutines: FastAPI runs a plain function in a worker thread, a thread
    # hand-off per request for a lookup.
    return _running(request)


RuntimeDep = Annotated[ServiceRuntime, Depends(runtime_of)]
"""A route parameter that receives the running service: ``runtime: RuntimeDep``."""

Context = TypeVar("Context")


def context_dependency(kind: type[Context]) -> Callable[[Request], Awaitable[Context]]:
    """A dependency handing routes the service's typed context; each service's ``context.py``
    names it once: ``EngagementDep = Annotated[EngagementContext, Depends(...)]``."""

    async def dependency(request: Request) -> Context:
        context = _running(request).context
        if not isinstance(context, kind):
            raise RuntimeError(f"the service's context is not a {kind.__name__}")
        return context

    return dependency


def create_service_app(spec: ServiceSpec) -> FastAPI:
    settings = spec.settings
    metrics = spec.metrics or ServiceMetrics(settings.service_name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level, settings.log_json)
        runtime = attach_runtime(app)
        await runtime.start()
        log.info("service started", extra={"port": settings.http_port})
        try:
            yield
        finally:
            await runtime.stop()
            log.info("service stopped")

    app = FastAPIOffline(
        title=f"loopcrm {spec.title}",
        description=spec.description,
        version="1.0.0",
        lifespan=lifespan,
        # operationId = the route function's name (get_customer), what a client generator
        # turns into a method name, not FastAPI's path-derived default.
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.spec = spec
    app.state.keyring = KeyRing(settings.api_keys, settings.dev_api_key)
    app.state.metrics = metrics
    app.state.settings = settings
    install_error_handlers(app)
    install_api_document(app)
    _install_http_metrics(app, metrics)
    app.include_router(_operations_router())
    for router in spec.routers:
        app.include_router(router)
    return app


def attach_runtime(app: FastAPI) -> ServiceRuntime:
    """Build the service's runtime (engine, relay, consumer; nothing started) and attach it."""
    spec: ServiceSpec = app.state.spec
    runtime = ServiceRuntime(
        spec, create_engine(spec.settings.resolved_database_url()), app.state.metrics
    )
    app.state.runtime = runtime
    return runtime


def _install_http_metrics(app: FastAPI, metrics: ServiceMetrics) -> None:
    app.add_middleware(RefuseNulCharacters)
    app.add_middleware(_HttpMetrics, metrics=metrics)  # outermost: counts the refusals too


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class _HttpMetrics:
    """Requests and their latency by method, route template and status, an access log line
    per request, and its request id (the caller's ``X-Request-ID`` when it is a plain token,
    else a new one) echoed in the response. Plain ASGI: a ``BaseHTTPMiddleware`` runs every
    request in a task of its own and streams the response through a queue, which costs more
    than the customer 360 read itself. The log names the route template, never the path or
    query (they carry customer ids)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = _request_id(scope)

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._app(scope, receive, observed_send)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "other"
            template = getattr(scope.get("route"), "path", None) or "unmatched"
            metrics = self._metrics
            metrics.http_requests.labels(method, template, str(status)).inc()
            metrics.http_latency.labels(method, template).observe(elapsed)
            access_log.log(
                logging.DEBUG if template in _PROBES else logging.INFO,
                "request",
                extra={
                    "method": method,
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "request_id": request_id,
                },
            )


_PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
"""Polled every few seconds by orchestrators and Prometheus: logged at debug only."""
_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id" and _REQUEST_ID.match(value):
            return value.decode()
    return uuid.uuid4().hex


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive (no dependency is checked)."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """Ready for traffic: 200 "ok" when the database answers, the broker answers a
        metadata request and the consumer has joined its group ("degraded", still 200, with
        the reason when a consumer is stuck on a batch); 503 with each check otherwise."""
        checks = await request.app.state.runtime.readiness()
        status, code = readiness_answer(checks)
        return JSONResponse({"status": status, "checks": checks}, status_code=code)

    @router.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
    )
    async def metrics(request: Request) -> Response:
        """Prometheus metrics of this process, in the text exposition format."""
        body, content_type = request.app.state.metrics.exposition()
        return Response(body, media_type=content_type)

    return router
