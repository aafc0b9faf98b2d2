"""Start and stop what the bench measures: the embedded broker and the services as processes
(``python -m services.<name>``, env like ``loopcrm up``), each on a fresh database."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shared.launcher import EMBEDDED_HEARTBEAT_INTERVAL_MS, EMBEDDED_SESSION_TIMEOUT_MS
from shared.messaging.embedded_broker import broker_binary, free_port
from shared.messaging.topics import ensure_topics
from shared.registry import SERVICE_NAMES
from tests.bench.databases import Databases
from tests.bench.httpclient import HttpClient
from tests.bench.processes import Child, Processes

DEV_KEY = "bench-dev-key-0123456789"
AUTH = {"Authorization": f"Bearer {DEV_KEY}"}


# --- the broker ------------------------------------------------------------------------------


@dataclass
class Broker:
    child: Child
    port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


async def start_broker(processes: Processes, log_dir: Path, timeout: float = 15.0) -> Broker:
    """The embedded broker (Tansu, memory storage) on a free port, every topic created."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    argv = [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]
    argv += ["--storage-engine", "memory://tansu/"]
    env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
    child = processes.spawn("broker", argv, env, log_dir / "broker.log")
    deadline = time.monotonic() + timeout
    while True:
        if not child.alive():
            raise RuntimeError(f"broker exited: {child.log_tail()}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"broker not listening after {timeout}s") from None
            await asyncio.sleep(0.05)
    broker = Broker(child, port)
    await ensure_topics(broker.bootstrap)
    return broker


# --- services --------------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    port: int
    child: Child

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> HttpClient:
        return HttpClient("127.0.0.1", self.port, headers=AUTH)


def service_env(
    port: int,
    bootstrap: str,
    database_url: str,
    var_dir: Path,
    session_timeout_ms: int = EMBEDDED_SESSION_TIMEOUT_MS,
) -> dict[str, str]:
    env = {
        **os.environ,
        "LOOPCRM_HOST": "127.0.0.1",
        "LOOPCRM_PORT": str(port),
        "LOOPCRM_KAFKA_BOOTSTRAP": bootstrap,
        "LOOPCRM_KAFKA_IDEMPOTENCE": "false",
        "LOOPCRM_DEV_API_KEY": DEV_KEY,
        "LOOPCRM_LOG_LEVEL": "WARNING",
        "LOOPCRM_VAR_DIR": str(var_dir),
        "LOOPCRM_DATABASE_URL": database_url,
    }
    # As `loopcrm up` does for the embedded broker: a short session keeps joins quick (a first
    # join waits about half of it).
    env.setdefault("LOOPCRM_KAFKA_SESSION_TIMEOUT_MS", str(session_timeout_ms))
    heartbeat_ms = min(EMBEDDED_HEARTBEAT_INTERVAL_MS, session_timeout_ms // 3)
    env.setdefault("LOOPCRM_KAFKA_HEARTBEAT_INTERVAL_MS", str(heartbeat_ms))
    return env


def spawn_service(
    processes: Processes,
    name: str,
    bootstrap: str,
    database_url: str,
    var_dir: Path,
    session_timeout_ms: int = EMBEDDED_SESSION_TIMEOUT_MS,
) -> Service:
    port = free_port()
    env = service_env(port, bootstrap, database_url, var_dir, session_timeout_ms)
    argv = [sys.executable, "-m", f"services.{name}"]
    child = processes.spawn(name, argv, env, var_dir / "logs" / f"{name}.log")
    return Service(name, port, child)


async def wait_ready(service: Service, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    async with HttpClient("127.0.0.1", service.port) as client:
        while True:
            if not service.child.alive():
                raise ServiceFailed(service.name, "exited during start-up", service.child)
            try:
                if (await client.get("/readyz", timeout=2)).status == 200:
                    return
            except (OSError, TimeoutError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise ServiceFailed(service.name, f"not ready after {timeout:.0f}s", service.child)
            await asyncio.sleep(0.1)


class ServiceFailed(RuntimeError):
    def __init__(self, name: str, what: str, child: Child | None = None) -> None:
        tail = child.log_tail() if child else ""
        lines = [line.strip() for line in tail.splitlines() if line.strip()]
        last = f": {lines[-1]}" if lines else ""
        super().__init__(f"{name} {what}{last}" + (f"\nlog tail:\n{tail}" if tail else ""))
        self.service = name


@dataclass
class Stack:
    """The broker and the services that started; ``failed`` says why the others did not."""

    broker: Broker
    databases: Databases
    services: dict[str, Service] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    def require(self, *names: str) -> None:
        missing = [name for name in names if name not in self.services]
        if missing:
            reasons = "; ".join(
                f"{name}: {self.failed.get(name, 'not started')}" for name in missing
            )
            raise RuntimeError(f"needs {', '.join(missing)} — {reasons}")

    @property
    def pids(self) -> dict[str, int]:
        return {"broker": self.broker.child.pid} | {
            name: service.child.pid for name, service in self.services.items()
        }


async def start_service(
    processes: Processes,
    name: str,
    bootstrap: str,
    database_url: str,
    var_dir: Path,
    session_timeout_ms: int = EMBEDDED_SESSION_TIMEOUT_MS,
) -> Service:
    """Spawn one service and wait until it is ready; once more on a new port if the free port
    it was given was taken meanwhile (the machine is shared). Raises ServiceFailed."""
    for attempt in (1, 2):
        service = spawn_service(
            processes, name, bootstrap, database_url, var_dir, session_timeout_ms
        )
        try:
            await wait_ready(service)
            return service
        except BaseException as exc:
            processes.stop([service.child])
            if attempt == 1 and "address already in use" in str(exc).lower():
                continue
            raise
    raise AssertionError("unreachable")


async def start_stack(
    processes: Processes,
    databases: Databases,
    var_dir: Path,
    names: Sequence[str] = SERVICE_NAMES,
) -> Stack:
    """Broker + services; a service that fails to start is recorded in ``failed``, not raised."""
    broker = await start_broker(processes, var_dir / "logs")
    stack = Stack(broker, databases)

    async def one(name: str) -> Service:
        url = await databases.create(name)
        return await start_service(processes, name, broker.bootstrap, url, var_dir)

    outcomes = await asyncio.gather(*(one(name) for name in names), return_exceptions=True)
    for name, outcome in zip(names, outcomes, strict=True):
        if isinstance(outcome, Service):
            stack.services[name] = outcome
        elif isinstance(outcome, Exception):
            stack.failed[name] = str(outcome)
        else:
            raise outcome
    return stack


async def start_alone(
    processes: Processes,
    databases: Databases,
    broker: Broker,
    name: str,
    var_dir: Path,
    session_timeout_ms: int = EMBEDDED_SESSION_TIMEOUT_MS,
) -> Service:
    """One service process on ``broker`` and a fresh database; raises ServiceFailed."""
    url = await databases.create(name)
    return await start_service(processes, name, broker.bootstrap, url, var_dir, session_timeout_ms)


def stop_stack(processes: Processes, stack: Stack) -> None:
    processes.stop([service.child for service in stack.services.values()])
    processes.stop([stack.broker.child], timeout=2)
