"""The five services as real processes on one embedded broker, shared by the end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.messaging.embedded_broker import EmbeddedBroker
from shared.messaging.topics import ensure_topics
from shared.registry import SERVICE_PORTS
from tests.support.databases import fresh_database
from tests.support.processes import ServiceProcess
from tests.support.services import AUTH


@dataclass
class Platform:
    broker: EmbeddedBroker
    processes: dict[str, ServiceProcess]

    def client(self, name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.processes[name].url, headers=AUTH, timeout=10)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    directory: Path = tmp_path_factory.mktemp("platform")
    with EmbeddedBroker(log_path=directory / "broker.log") as broker:
        asyncio.run(ensure_topics(broker.bootstrap))
        with contextlib.ExitStack() as stack:
            urls = {name: _enter_database(stack, directory, name) for name in SERVICE_PORTS}
            processes = {
                name: ServiceProcess(
                    name, bootstrap=broker.bootstrap, database_url=url, log_dir=directory
                )
                for name, url in urls.items()
            }
            try:
                with ThreadPoolExecutor(len(processes)) as pool:
                    list(pool.map(lambda p: p.start(ready_timeout=60), processes.values()))
                yield Platform(broker, processes)
            finally:
                for process in processes.values():
                    process.stop()


def _enter_database(stack: contextlib.ExitStack, directory: Path, name: str) -> str:
    manager = fresh_database(directory, name)
    loop = asyncio.new_event_loop()
    url = loop.run_until_complete(manager.__aenter__())

    def leave() -> None:
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()

    stack.callback(leave)
    return url
