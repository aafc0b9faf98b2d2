"""Delivery and the one-off command: retries with backoff, give-up, re-checks, idempotency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from services.engagement import commands, delivery
from services.engagement.context import DeliveryPolicy
from services.engagement.rules import Channel, Purpose
from services.engagement.schemas import MessageCreate
from shared.errors import Conflict
from tests.unit.engagement.test_handlers import NOW, World, complaint, make_world

SECOND = timedelta(seconds=1)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with make_world(tmp_path) as made:
        await made.handle(
            "customer.registered",
            {"customer_id": "c-1", "email": "a@example.com", "consents": {"email": True}},
        )
        yield made


def marketing_email(template: str = "spring_sale") -> MessageCreate:
    return MessageCreate(
        customer_id="c-1", channel=Channel.EMAIL, purpose=Purpose.MARKETING, template=template
    )


async def send(world: World, key: str | None = None, template: str = "spring_sale"):
    message, _created = await commands.send_one_off(
        world.transaction, world.ctx, marketing_email(template), key
    )
    return message


async def test_a_failed_delivery_backs_off_then_gives_up(world: World) -> None:
    world.adapter.down = True
    message = await send(world)
    assert (message.outcome, message.reason, message.attempts) == ("pending", "delivery_failed", 1)
    assert message.next_attempt_at == NOW + 10 * SECOND

    assert await delivery.deliver_due(world.transaction, world.ctx) == 0  # not due yet
    world.clock.advance(10 * SECOND)
    assert await delivery.deliver_due(world.transaction, world.ctx) == 1
    [message] = await world.messages("c-1")
    assert (message.attempts, message.next_attempt_at) == (2, NOW + 30 * SECOND)

    world.clock.advance(20 * SECOND)
    await delivery.deliver_due(world.transaction, world.ctx)
    [message] = await world.messages("c-1")
    assert (message.outcome, message.reason, message.last_error) == (
        "suppressed",
        "delivery_failed",
        "gateway_down",
    )
    assert world.adapter.calls == 3
    [suppressed] = await world.published("message.suppressed")
    assert suppressed["data"]["reason"] == "delivery_failed"


async def test_a_retry_that_succeeds_publishes_message_sent(world: World) -> None:
    world.adapter.down = True
    failed = await send(world)
    world.adapter.down = False
    world.clock.advance(10 * SECOND)
    await delivery.deliver_due(world.transaction, world.ctx)
    [message] = await world.messages("c-1")
    assert (message.outcome, message.reason, message.delivered_at) == (
        "sent",
        None,
        world.clock.now(),
    )
    [sent] = await world.published("message.sent")
    assert sent["data"]["message_id"] == failed.message_id


async def test_a_retry_passes_the_pipeline_again(world: World) -> None:
    world.adapter.down = True
    await send(world)
    await world.handle("complaint.opened", complaint("c-1", NOW))
    world.adapter.down = False
    world.clock.advance(10 * SECOND)
    await delivery.deliver_due(world.transaction, world.ctx)

    marketing = [m for m in await world.messages("c-1") if m.purpose == "marketing"]
    assert [(m.outcome, m.reason) for m in marketing] == [("suppressed", "silenced")]
    assert [d.template for d in world.adapter.delivered] == ["complaint_follow_up"]


async def test_messages_awaiting_delivery_count_toward_the_cap(world: World) -> None:
    world.adapter.down = True
    for _ in range(4):
        assert (await send(world)).outcome == "pending"
    capped = await send(world)
    assert (capped.outcome, capped.reason) == ("suppressed", "frequency_cap")


async def test_an_abandoned_claim_is_taken_again_when_its_lease_ends(world: World) -> None:
    await world.handle("complaint.opened", complaint("c-1", NOW))
    async with world.transaction() as session:
        claimed = await delivery.claim_due(session, world.ctx, NOW)  # then the process dies
    assert len(claimed) == 1 and world.adapter.calls == 0
    assert await delivery.deliver_due(world.transaction, world.ctx) == 0
    world.clock.advance(world.ctx.delivery.lease)
    assert await delivery.deliver_due(world.transaction, world.ctx) == 1
    [follow_up] = await world.messages("c-1")
    assert (follow_up.outcome, follow_up.attempts) == ("sent", 2)


async def test_the_same_idempotency_key_sends_once(world: World) -> None:
    first, created = await commands.send_one_off(
        world.transaction, world.ctx, marketing_email(), "k-1"
    )
    again, replayed = await commands.send_one_off(
        world.transaction, world.ctx, marketing_email(), "k-1"
    )
    assert (created, replayed) == (True, False)
    assert again.message_id == first.message_id and world.adapter.calls == 1
    with pytest.raises(Conflict):
        await send(world, key="k-1", template="another")


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = DeliveryPolicy(backoff_s=10, backoff_max_s=60)
    assert [policy.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
