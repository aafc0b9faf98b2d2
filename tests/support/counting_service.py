"""A minimal service on the kit: one handler counting events per customer, for kit tests and
the benchmark, so the consumer path is measured and tested without any business rule."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

from fastapi import FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.dialects.sqlite import insert

from shared.app import ServiceSpec, create_service_app
from shared.db import create_engine
from shared.events.catalogue import TicketOpened
from shared.settings import ServiceSettings
from shared.subscriptions import Subscriptions
from shared.tables import kit_metadata
from shared.transaction import Transaction
from tests.support.services import FAST_TEST_SETTINGS

counting_metadata = MetaData()
counts = Table(
    "counts",
    counting_metadata,
    Column("customer_id", String(128), primary_key=True),
    Column("events", Integer, nullable=False),
)


class CountingSettings(ServiceSettings):
    service_name: ClassVar[str] = "counting"


async def count_event(session: Any, event: Any) -> None:
    statement = insert(counts).values(customer_id=event.subject, events=1)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[counts.c.customer_id], set_={"events": counts.c.events + 1}
        )
    )


async def read_counts(app: FastAPI) -> dict[str, int]:
    async with app.state.runtime.sessions() as session:
        rows = (await session.execute(select(counts.c.customer_id, counts.c.events))).all()
    return {row.customer_id: row.events for row in rows}


def metric_total(app: FastAPI, name: str, outcome: str | None = None) -> float:
    """A metric's samples summed over their label sets (those of ``outcome`` if given), read
    from the service's registry in the test's own process."""
    return sum(
        sample.value
        for family in app.state.runtime.metrics.registry.collect()
        for sample in family.samples
        if sample.name == name and outcome in (None, sample.labels.get("outcome"))
    )


@asynccontextmanager
async def counting_service(
    bootstrap: str,
    directory: Path,
    *,
    handler: Callable[[Any, Any], Awaitable[None]] = count_event,
    database_url: str | None = None,
    **overrides: Any,
) -> AsyncIterator[FastAPI]:
    url = database_url or f"sqlite+aiosqlite:///{directory / 'counting.db'}"
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(kit_metadata.create_all)
        await connection.run_sync(counting_metadata.create_all)
    await engine.dispose()
    settings = CountingSettings(
        kafka_bootstrap=bootstrap,
        kafka_idempotence=False,
        database_url=url,
        log_json=False,
        **{**FAST_TEST_SETTINGS, **overrides},
    )
    subscriptions = Subscriptions[None]("counting")

    @subscriptions.on(TicketOpened)
    async def on_ticket_opened(event: Any, tx: Transaction, _ctx: None) -> None:
        await handler(tx.session, event)

    app = create_service_app(
        ServiceSpec(
            settings=settings, title="counting", description="", subscriptions=subscriptions
        )
    )
    async with app.router.lifespan_context(app):
        yield app
