"""Engagement's event handlers on a real (throwaway SQLite) database, with an injected clock."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement.adapters import Adapters, Delivery, DeliveryFailed
from services.engagement.context import Engagement, build_engagement
from services.engagement.handlers import event_handlers
from services.engagement.models import Base, Customer, Message
from services.engagement.rules import Channel
from services.engagement.settings import EngagementSettings
from shared.clock import FixedClock
from shared.db import create_engine, create_session_factory
from shared.events.catalogue import data_model_for
from shared.events.envelope import CloudEvent, TypedEvent
from shared.tables import kit_metadata, outbox

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


class FlakyAdapter:
    """Fails while `down`; keeps what it delivered."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0
        self.delivered: list[Delivery] = []

    async def deliver(self, delivery: Delivery) -> None:
        self.calls += 1
        if self.down:
            raise DeliveryFailed("gateway_down")
        self.delivered.append(delivery)

    def forget(self, customer_id: str) -> None:
        self.delivered = [d for d in self.delivered if d.customer_id != customer_id]


@dataclass
class World:
    ctx: Engagement
    clock: FixedClock
    adapter: FlakyAdapter
    transaction: Callable[[], Any]

    async def handle(
        self, event_type: str, data: dict[str, Any], *, at: datetime | None = None
    ) -> None:
        envelope = CloudEvent(
            id=str(uuid.uuid4()),
            source="test",
            type=event_type,
            time=at or self.clock.now(),
            subject=data["customer_id"],
            data=data,
        )
        model = data_model_for(event_type)
        event = TypedEvent[model](envelope=envelope, data=model.model_validate(data))  # type: ignore[valid-type]
        async with self.transaction() as session:
            await event_handlers(self.ctx)[event_type](session, event)

    async def customer(self, customer_id: str) -> Customer | None:
        async with self.transaction() as session:
            return await session.get(Customer, customer_id)

    async def messages(self, customer_id: str) -> list[Message]:
        async with self.transaction() as session:
            rows = await session.scalars(
                select(Message).where(Message.customer_id == customer_id).order_by(Message.seq)
            )
            return list(rows.all())

    async def published(self, topic: str) -> list[dict[str, Any]]:
        """Events written to the outbox for `topic`, oldest first; the outbox is emptied."""
        async with self.transaction() as session:
            rows = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()
            await session.execute(delete(outbox))
        return [json.loads(row.payload) for row in rows if row.topic == topic]


@asynccontextmanager
async def make_world(tmp_path: Path) -> AsyncIterator[World]:
    """A fresh database, a fixed clock at NOW and one flaky adapter behind every channel."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'engagement.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        await connection.run_sync(kit_metadata.create_all)
    sessions = create_session_factory(engine)

    @asynccontextmanager
    async def transaction() -> AsyncIterator[AsyncSession]:
        async with sessions() as session, session.begin():
            yield session

    clock = FixedClock(NOW)
    adapter = FlakyAdapter()
    settings = EngagementSettings(
        delivery_max_attempts=3, delivery_backoff_s=10, delivery_lease_s=60
    )
    ctx = replace(
        build_engagement(settings, clock), adapters=Adapters(dict.fromkeys(Channel, adapter))
    )
    try:
        yield World(ctx, clock, adapter, transaction)
    finally:
        await engine.dispose()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with make_world(tmp_path) as made:
        yield made


def complaint(customer_id: str, opened_at: datetime, ticket_id: str = "t-1") -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "ticket_id": ticket_id,
        "category": "logistics",
        "opened_at": opened_at.isoformat(),
    }


async def test_late_customer_events_never_overwrite_newer_ones(world: World) -> None:
    newer = {"customer_id": "c-1", "phone": "139", "consents": {"email": False}}
    older = {"customer_id": "c-1", "phone": "138", "consents": {"email": True, "sms": True}}
    await world.handle("customer.updated", newer, at=NOW)
    await world.handle("customer.registered", older, at=NOW - HOUR)

    customer = await world.customer("c-1")
    assert customer is not None
    assert (customer.phone, customer.consents) == ("139", {"email": False, "sms": True})


async def test_tags_keep_the_newest_full_set(world: World) -> None:
    await world.handle("profile.tagged", {"customer_id": "c-1", "tags": ["vip"]}, at=NOW)
    await world.handle("profile.tagged", {"customer_id": "c-1", "tags": ["old"]}, at=NOW - DAY)
    customer = await world.customer("c-1")
    assert customer is not None and customer.tags == ["vip"]


async def test_a_complaint_silences_and_queues_one_follow_up(world: World) -> None:
    await world.handle("complaint.opened", complaint("c-1", NOW - HOUR))
    await world.handle("complaint.opened", complaint("c-1", NOW - HOUR))  # redelivered
    await world.handle("complaint.opened", complaint("c-1", NOW - 3 * DAY, "t-0"))  # older

    customer = await world.customer("c-1")
    assert customer is not None
    assert customer.silenced_until == NOW - HOUR + 30 * DAY
    assert customer.silence_ticket_id == "t-1"
    [started] = await world.published("silence.started")
    assert started["data"]["until"].startswith("2025-07-01T08:00:00")
    follow_ups = await world.messages("c-1")
    assert [(m.template, m.outcome, m.channel) for m in follow_ups] == [
        ("complaint_follow_up", "pending", "in_app"),
        ("complaint_follow_up", "pending", "in_app"),
    ]
    assert {m.params["ticket_id"] for m in follow_ups if m.params} == {"t-1", "t-0"}


async def test_a_complaint_backdated_31_days_starts_no_silence(world: World) -> None:
    await world.handle("complaint.opened", complaint("c-1", NOW - 31 * DAY))
    assert await world.published("silence.started") == []
    await world.handle("complaint.opened", complaint("c-1", NOW, "t-2"))
    [started] = await world.published("silence.started")
    assert started["data"]["ticket_id"] == "t-2"


async def test_the_follow_up_uses_the_first_reachable_channel(world: World) -> None:
    consents = {"email": True, "sms": True, "wecom": True}
    await world.handle("customer.registered", {"customer_id": "c-1", "consents": consents})
    await world.handle("complaint.opened", complaint("c-1", NOW))
    [follow_up] = await world.messages("c-1")
    assert follow_up.channel == "wecom"  # sms comes first, but there is no phone number


def segment(customer_id: str, old: str | None, new: str) -> dict[str, Any]:
    return {"customer_id": customer_id, "old_segment": old, "new_segment": new, "rfm": {}}


async def test_playbooks_run_on_entering_a_segment_while_fresh(world: World) -> None:
    await world.handle("segment.changed", segment("c-1", "new", "potential"))
    await world.handle("segment.changed", segment("c-2", "potential", "potential"))
    await world.handle("segment.changed", segment("c-3", "new", "potential"), at=NOW - 4 * DAY)
    await world.handle("segment.changed", segment("c-4", None, "regular"))

    [playbook] = await world.messages("c-1")
    assert (playbook.channel, playbook.template, playbook.purpose) == (
        "in_app",
        "similar_to_viewed",
        "marketing",
    )
    for quiet in ("c-2", "c-3", "c-4"):
        assert await world.messages(quiet) == []


async def test_an_older_segment_change_arriving_late_is_ignored(world: World) -> None:
    await world.handle("segment.changed", segment("c-1", "new", "regular"), at=NOW)
    await world.handle("segment.changed", segment("c-1", None, "new"), at=NOW - DAY)
    customer = await world.customer("c-1")
    assert customer is not None and customer.segment == "regular"


@pytest.mark.parametrize(
    ("csat", "resolved_ago", "coupons"),
    [(5, HOUR, 1), (4, 71 * HOUR, 1), (3, HOUR, 0), (5, 73 * HOUR, 0), (None, HOUR, 0)],
)
async def test_a_csat_coupon_within_72_hours(
    world: World, csat: int | None, resolved_ago: timedelta, coupons: int
) -> None:
    resolved = {
        "customer_id": "c-1",
        "ticket_id": "t-1",
        "kind": "inquiry",
        "category": "size",
        "resolved_at": (NOW - resolved_ago).isoformat(),
        "csat": csat,
    }
    await world.handle("ticket.resolved", resolved)
    await world.handle("ticket.resolved", resolved)
    assert [m.template for m in await world.messages("c-1")] == ["csat_coupon"] * coupons


async def test_erasure_keeps_decisions_without_personal_data(world: World) -> None:
    registered = {"customer_id": "c-1", "email": "a@example.com", "consents": {"email": True}}
    await world.handle("customer.registered", registered)
    await world.handle("profile.tagged", {"customer_id": "c-1", "tags": ["vip"]})
    await world.handle("complaint.opened", complaint("c-1", NOW))
    await world.published("message.suppressed")

    await world.handle("customer.erased", {"customer_id": "c-1", "erased_at": NOW.isoformat()})
    await world.handle("customer.updated", {"customer_id": "c-1", "email": "b@example.com"})

    customer = await world.customer("c-1")
    assert customer is not None and customer.erased_at == NOW
    assert (customer.email, customer.consents, customer.tags) == (None, {}, [])
    [follow_up] = await world.messages("c-1")
    assert (follow_up.outcome, follow_up.reason, follow_up.params) == (
        "suppressed",
        "customer_erased",
        None,
    )
    [suppressed] = await world.published("message.suppressed")
    assert suppressed["data"]["reason"] == "customer_erased"
