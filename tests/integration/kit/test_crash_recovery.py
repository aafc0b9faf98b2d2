"""A consumer killed with SIGKILL mid-batch and restarted: nothing lost, nothing twice."""

import asyncio
import json
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from services.profile.models import Customer
from shared.migrations import upgrade_async
from shared.tables import inbox
from tests.support.events import new_id
from tests.support.processes import ServiceProcess
from tests.support.services import service_parts

EVENTS = 1500
CUSTOMERS = 50


def ticket_opened_batch(customers: list[str]) -> list[tuple[bytes, bytes]]:
    now = datetime.now(UTC).isoformat()
    messages = []
    for n in range(EVENTS):
        customer_id = customers[n % len(customers)]
        event = {
            "specversion": "1.0",
            "id": new_id("e"),
            "source": "loopcrm/ticketing",
            "type": "ticket.opened",
            "time": now,
            "subject": customer_id,
            "data": {
                "customer_id": customer_id,
                "ticket_id": f"t-{n}",
                "kind": "inquiry",
                "category": "service",
                "priority": "P3",
                "tier": "bronze",
                "opened_at": now,
                "response_due_at": now,
            },
        }
        messages.append((customer_id.encode(), json.dumps(event).encode()))
    return messages


async def produce(bootstrap: str, messages: list[tuple[bytes, bytes]]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send(
                "ticket.opened",
                value,
                key=key,
                headers=[("content-type", b"application/cloudevents+json")],
            )
            for key, value in messages
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def test_sigkill_mid_batch_then_restart_handles_every_event_exactly_once(
    broker, database, tmp_path
):
    customers = [new_id("c") for _ in range(CUSTOMERS)]
    async with database("profile") as url:
        await upgrade_async(service_parts("profile")[2], url)
        engine = create_async_engine(url)

        async def handled() -> int:
            async with engine.connect() as connection:
                return (await connection.execute(select(func.count()).select_from(inbox))).scalar()

        profile = ServiceProcess(
            "profile",
            bootstrap=broker.bootstrap,
            database_url=url,
            log_dir=tmp_path,
            extra_env={"LOOPCRM_CONSUMER_BATCH_SIZE": "500"},
        )
        try:
            await asyncio.to_thread(profile.start)
            await produce(broker.bootstrap, ticket_opened_batch(customers))
            while await handled() < 50:  # noqa: ASYNC110 - polling another process
                await asyncio.sleep(0.01)
            profile.kill()
            killed_at = await handled()
            assert 0 < killed_at < EVENTS, "the kill must land in the middle of the stream"

            await asyncio.to_thread(profile.start)
            deadline = asyncio.get_running_loop().time() + 60
            while (count := await handled()) < EVENTS:
                assert asyncio.get_running_loop().time() < deadline, f"{count}/{EVENTS} handled"
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # anything handled twice would show up by now

            async with engine.connect() as connection:
                total = (await connection.execute(select(func.sum(Customer.open_tickets)))).scalar()
            assert await handled() == EVENTS
            assert total == EVENTS
        finally:
            profile.stop()
            await engine.dispose()
