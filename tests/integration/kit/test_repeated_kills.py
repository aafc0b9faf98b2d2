"""Loyalty SIGKILLed three times while a storefront keeps publishing orders, restarted each
time: every order earns once, no order earns twice, and every account equals its ledger."""

import asyncio
import json
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.loyalty.models import Account, LedgerEntryRow, Order
from shared.migrations import upgrade_async
from shared.tables import inbox
from tests.support import builders
from tests.support.events import new_id
from tests.support.processes import ServiceProcess
from tests.support.services import service_parts

CUSTOMERS = 100
KILLS = 3
CHUNK = 20


class Storefront:
    """Publishes order.placed in chunks, round-robin over the customers, until stopped."""

    def __init__(self, bootstrap: str, customers: list[str]) -> None:
        self.customers = customers
        self.sent = 0
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=False, acks="all"
        )
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        await self._producer.start()
        try:
            while not self._stopping.is_set():
                await self._publish_chunk()
                await asyncio.sleep(0.05)
            await self._publish_chunk()  # one more after the last restart
        finally:
            await self._producer.stop()

    def stop(self) -> None:
        self._stopping.set()

    async def _publish_chunk(self) -> None:
        futures = []
        for _ in range(CHUNK):
            customer_id = self.customers[self.sent % len(self.customers)]
            event = builders.order_placed(customer_id, amount="100.00", at=datetime.now(UTC))
            futures.append(
                await self._producer.send(
                    "order.placed",
                    json.dumps(event).encode(),
                    key=customer_id.encode(),
                    headers=[("content-type", b"application/cloudevents+json")],
                )
            )
            self.sent += 1
        await asyncio.gather(*futures)


async def scalar(engine: AsyncEngine, query) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return (await connection.execute(query)).scalar() or 0


async def test_repeated_sigkills_under_a_stream_of_orders_lose_and_double_nothing(
    broker, database, tmp_path
):
    customers = [new_id("c") for _ in range(CUSTOMERS)]
    async with database("loyalty") as url:
        await upgrade_async(service_parts("loyalty")[2], url)
        engine = create_async_engine(url)
        handled = select(func.count()).select_from(inbox)
        loyalty = ServiceProcess(
            "loyalty",
            bootstrap=broker.bootstrap,
            database_url=url,
            log_dir=tmp_path,
            extra_env={"LOOPCRM_CONSUMER_BATCH_SIZE": "200"},
        )
        storefront = Storefront(broker.bootstrap, customers)
        publishing = asyncio.create_task(storefront.run())
        try:
            await asyncio.to_thread(loyalty.start)
            for _ in range(KILLS):
                started_at = await scalar(engine, handled)
                while await scalar(engine, handled) <= started_at:
                    assert not publishing.done(), "the storefront stopped publishing"
                    await asyncio.sleep(0.01)
                loyalty.kill()  # while it works through the stream
                await asyncio.to_thread(loyalty.start)
            storefront.stop()
            await publishing

            deadline = asyncio.get_running_loop().time() + 120
            while (count := await scalar(engine, handled)) < storefront.sent:
                assert asyncio.get_running_loop().time() < deadline, (
                    f"{count}/{storefront.sent} handled"
                )
                await asyncio.sleep(0.1)

            # An order past the daily cap earns in part and holds the rest: one entry per kind.
            doubled = (
                select(LedgerEntryRow.order_id, LedgerEntryRow.kind)
                .where(LedgerEntryRow.order_id.is_not(None))
                .group_by(LedgerEntryRow.order_id, LedgerEntryRow.kind)
                .having(func.count() > 1)
                .subquery()
            )
            earned_orders = select(func.count(func.distinct(LedgerEntryRow.order_id)))
            assert await scalar(engine, select(func.count()).select_from(Order)) == storefront.sent
            assert await scalar(engine, earned_orders) == storefront.sent  # none lost
            assert await scalar(engine, select(func.count()).select_from(doubled)) == 0
            orders_counted = select(func.sum(Account.orders_placed))
            assert await scalar(engine, orders_counted) == storefront.sent

            # Each account holds what its last ledger entry says it holds.
            last = (
                select(LedgerEntryRow.customer_id, func.max(LedgerEntryRow.seq).label("seq"))
                .group_by(LedgerEntryRow.customer_id)
                .subquery()
            )
            mismatched = (
                select(func.count())
                .select_from(Account)
                .join(last, last.c.customer_id == Account.customer_id)
                .join(LedgerEntryRow, LedgerEntryRow.seq == last.c.seq)
                .where(
                    (Account.balance != LedgerEntryRow.balance_after)
                    | (Account.held != LedgerEntryRow.held_after)
                )
            )
            assert await scalar(engine, mismatched) == 0
            assert await scalar(engine, select(func.count()).select_from(Account)) == CUSTOMERS
        finally:
            storefront.stop()
            if not publishing.done():
                publishing.cancel()
            loyalty.stop()
            await engine.dispose()
