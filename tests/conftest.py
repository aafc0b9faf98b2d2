from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from shared.messaging.embedded_broker import EmbeddedBroker
from shared.messaging.topics import ensure_topics
from tests.support.databases import fresh_database
from tests.support.services import RunningService, running_service


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of the test's own, every catalogue topic created; stopped whatever happens."""
    with EmbeddedBroker(log_path=tmp_path / "broker.log") as running:
        asyncio.run(ensure_topics(running.bootstrap))
        yield running


@pytest.fixture
def database(tmp_path: Path) -> Callable[[str], AbstractAsyncContextManager[str]]:
    return lambda name: fresh_database(tmp_path, name)


@pytest.fixture
def service(
    broker: EmbeddedBroker, database: Callable[[str], AbstractAsyncContextManager[str]]
) -> Callable[..., AbstractAsyncContextManager[RunningService]]:
    """``async with service("ticketing") as ticketing:`` on the test's broker and database."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def start(name: str, **overrides: Any) -> AsyncIterator[RunningService]:
        async with (
            database(name) as url,
            running_service(
                name, bootstrap=broker.bootstrap, database_url=url, **overrides
            ) as running,
        ):
            yield running

    return start


_TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test is marked with its tier, from the folder it lives in."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in _TIERS:
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))
                break
