"""Delivery and the one-off command through the harness: retries with backoff, give-up,
re-checks, leases, idempotency. One flaky adapter stands behind every channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from services.engagement.adapters.delivery import Adapters, Delivery, DeliveryFailed
from services.engagement.commands.messages import send_one_off
from services.engagement.context import EngagementContext
from services.engagement.rules.channels import Channel, Purpose
from services.engagement.rules.delivery import DeliveryPolicy
from services.engagement.schemas import MessageCreate, MessagePublic
from services.engagement.tasks import claim_due, deliver_due
from shared.backoff import Backoff
from shared.clock import FixedClock
from shared.errors import Conflict
from tests.support import builders
from tests.support.harness import ServiceHarness
from tests.unit.engagement.test_handlers import NOW, complaint, drain, messages_of

SECOND = timedelta(seconds=1)


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
class Flaky:
    """The harness, and the service's context with the flaky adapter behind every channel."""

    svc: ServiceHarness
    ctx: EngagementContext
    adapter: FlakyAdapter

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.svc.clock, FixedClock)
        return self.svc.clock

    async def deliver_due(self) -> int:
        return await deliver_due(self.svc.transaction, self.ctx)


@pytest.fixture
async def world(svc: ServiceHarness) -> AsyncIterator[Flaky]:
    adapter = FlakyAdapter()
    ctx = replace(svc.context, adapters=Adapters(dict.fromkeys(Channel, adapter)))
    await svc.deliver(
        builders.customer_registered("c-1", email="a@example.com", consents={"email": True})
    )
    yield Flaky(svc, ctx, adapter)


def marketing_email(template: str = "spring_sale") -> MessageCreate:
    return MessageCreate(
        customer_id="c-1", channel=Channel.EMAIL, purpose=Purpose.MARKETING, template=template
    )


async def send(
    world: Flaky, key: str | None = None, template: str = "spring_sale"
) -> MessagePublic:
    message, _created = await send_one_off(
        world.svc.transaction, world.ctx, marketing_email(template), key
    )
    return message


async def test_a_failed_delivery_backs_off_then_gives_up(world: Flaky) -> None:
    world.adapter.down = True
    message = await send(world)
    assert (message.outcome, message.reason, message.attempts) == ("pending", "delivery_failed", 1)
    assert message.next_attempt_at == NOW + 10 * SECOND

    assert await world.deliver_due() == 0  # not due yet
    world.clock.advance(10 * SECOND)
    assert await world.deliver_due() == 1
    [row] = await messages_of(world.svc, "c-1")
    assert (row.attempts, row.next_attempt_at) == (2, NOW + 30 * SECOND)

    world.clock.advance(20 * SECOND)
    await world.deliver_due()
    [row] = await messages_of(world.svc, "c-1")
    assert (row.outcome, row.reason, row.last_error) == (
        "suppressed",
        "delivery_failed",
        "gateway_down",
    )
    assert world.adapter.calls == 3
    [suppressed] = await drain(world.svc, "message.suppressed")
    assert suppressed.data["reason"] == "delivery_failed"


async def test_a_retry_that_succeeds_publishes_message_sent(world: Flaky) -> None:
    world.adapter.down = True
    failed = await send(world)
    world.adapter.down = False
    world.clock.advance(10 * SECOND)
    await world.deliver_due()
    [row] = await messages_of(world.svc, "c-1")
    assert (row.outcome, row.reason, row.delivered_at) == ("sent", None, world.clock.now())
    [sent] = await drain(world.svc, "message.sent")
    assert sent.data["message_id"] == failed.message_id


async def test_a_retry_passes_the_pipeline_again(world: Flaky) -> None:
    world.adapter.down = True
    await send(world)
    await world.svc.deliver(complaint("c-1", NOW))
    world.adapter.down = False
    world.clock.advance(10 * SECOND)
    await world.deliver_due()

    marketing = [m for m in await messages_of(world.svc, "c-1") if m.purpose == "marketing"]
    assert [(m.outcome, m.reason) for m in marketing] == [("suppressed", "silenced")]
    assert [d.template for d in world.adapter.delivered] == ["complaint_follow_up"]


async def test_messages_awaiting_delivery_count_toward_the_cap(world: Flaky) -> None:
    world.adapter.down = True
    for _ in range(4):
        assert (await send(world)).outcome == "pending"
    capped = await send(world)
    assert (capped.outcome, capped.reason) == ("suppressed", "frequency_cap")


async def test_an_abandoned_claim_is_taken_again_when_its_lease_ends(world: Flaky) -> None:
    await world.svc.deliver(complaint("c-1", NOW))
    async with world.svc.transaction() as tx:
        claimed = await claim_due(tx, world.ctx)  # then the process dies
    assert len(claimed) == 1 and world.adapter.calls == 0
    assert await world.deliver_due() == 0
    world.clock.advance(world.ctx.delivery.lease)
    assert await world.deliver_due() == 1
    [follow_up] = await messages_of(world.svc, "c-1")
    assert (follow_up.outcome, follow_up.attempts) == ("sent", 2)


async def test_the_delivery_task_delivers_what_is_due(svc: ServiceHarness) -> None:
    await svc.deliver(complaint("c-1", NOW))
    await svc.run_task("deliver_messages")
    [follow_up] = await messages_of(svc, "c-1")
    assert (follow_up.outcome, follow_up.attempts) == ("sent", 1)
    [delivered] = svc.context.recording.for_customer("c-1")
    assert delivered.template == "complaint_follow_up"


async def test_the_same_idempotency_key_sends_once(world: Flaky) -> None:
    begin, ctx = world.svc.transaction, world.ctx
    first, created = await send_one_off(begin, ctx, marketing_email(), "k-1")
    again, replayed = await send_one_off(begin, ctx, marketing_email(), "k-1")
    assert (created, replayed) == (True, False)
    assert again.message_id == first.message_id and world.adapter.calls == 1
    with pytest.raises(Conflict):
        await send(world, key="k-1", template="another")


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = DeliveryPolicy(backoff=Backoff(initial_s=10, maximum_s=60))
    assert [policy.backoff.delay(n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
