"""Runs of events as the consumer applies them: a run of N events in one transaction gives
the state and the published events the same events give one per transaction; a customer's
events within a run are coalesced into one write; duplicates and mixed customers in a run;
a run costs a fixed number of statements whatever its length."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from services.engagement.models import Customer, Message
from shared.clock import FixedClock
from tests.support import builders
from tests.support.harness import ServiceHarness, service_harness
from tests.unit.engagement.test_handlers import complaint, messages_of, segment

NOW = builders.T0
HOUR = timedelta(hours=1)


@pytest.fixture
async def each(tmp_path: Path) -> AsyncIterator[ServiceHarness]:
    """A second engagement, to apply the same events one per transaction."""
    directory = tmp_path / "each"
    directory.mkdir()
    async with service_harness("engagement", directory, clock=FixedClock(NOW)) as harness:
        yield harness


async def state(svc: ServiceHarness) -> dict[str, Any]:
    """Every customer row, every decision and every published event, without the ids and
    sequence numbers each database makes up."""
    async with svc.transaction() as tx:
        customers = (await tx.session.scalars(select(Customer))).all()
        messages = (await tx.session.scalars(select(Message).order_by(Message.seq))).all()
        rows = {
            c.customer_id: {k: v for k, v in vars(c).items() if not k.startswith("_")}
            for c in customers
        }
        decisions = [
            {
                k: v
                for k, v in vars(m).items()
                if not k.startswith("_") and k not in ("seq", "message_id")
            }
            for m in messages
        ]
    published = [
        (e.type, e.subject, {k: v for k, v in e.data.items() if k != "message_id"})
        for e in await svc.published()
    ]
    return {"customers": rows, "messages": decisions, "published": published}


def mixed_run() -> list[dict[str, Any]]:
    """Several customers, several events each, every type engagement consumes: consents,
    tags (a frequent returner's cap is 2), playbooks that meet the cap within the run, a
    complaint that silences what follows, a CSAT coupon, an erasure, late events."""
    vip = {"email": True, "sms": True, "wecom": True, "push": True}
    return [
        builders.customer_registered("c-1", email="a@example.com", consents=vip, at=NOW - HOUR),
        builders.customer_registered("c-2", phone="139", consents={"sms": True}),
        builders.profile_tagged("c-1", tags=["frequent_returner"], at=NOW - HOUR),
        segment("c-1", "new", "loyal"),
        complaint("c-2", NOW - HOUR, "t-2"),
        segment("c-2", "dormant", "win_back"),  # silenced
        segment("c-1", "loyal", "win_back"),
        segment("c-3", None, "potential"),
        segment("c-1", "win_back", "potential"),  # over the frequent returner's cap of 2
        builders.customer_updated("c-2", consents={"sms": False}, at=NOW - 2 * HOUR),  # late
        segment("c-2", "win_back", "loyal"),  # no wecom consent
        builders.ticket_resolved(
            "c-1", ticket_id="t-9", category="size", resolved_at=NOW - HOUR, csat=5
        ),
        segment("c-3", "potential", "regular", at=NOW - HOUR),  # older: ignored
        builders.profile_tagged("c-3", tags=["vip"]),
        builders.customer_erased("c-3", erased_at=NOW),
        segment("c-3", "regular", "loyal"),  # erased: the membership, no playbook
        complaint("c-1", NOW, "t-1"),
    ]


async def test_a_run_gives_what_the_same_events_give_one_at_a_time(
    svc: ServiceHarness, each: ServiceHarness
) -> None:
    events = mixed_run()
    assert await svc.deliver(*events) == ["handled"] * len(events)
    assert await each.deliver_each(*events) == ["handled"] * len(events)

    batched, one_by_one = await state(svc), await state(each)
    assert batched == one_by_one
    decisions = [(m["customer_id"], m["outcome"], m["reason"]) for m in batched["messages"]]
    assert ("c-1", "suppressed", "frequency_cap") in decisions
    assert ("c-2", "suppressed", "silenced") in decisions


async def test_a_customers_events_in_a_run_are_one_write_newest_wins(
    svc: ServiceHarness, each: ServiceHarness
) -> None:
    changes = [
        segment("c-1", "new", "potential", at=NOW - 3 * HOUR),
        segment("c-1", "potential", "loyal", at=NOW - HOUR),
        segment("c-1", "loyal", "regular", at=NOW - 2 * HOUR),  # older than the one before
        builders.profile_tagged("c-1", tags=["b", "a", "a"], at=NOW),
        builders.profile_tagged("c-1", tags=["old"], at=NOW - HOUR),
    ]
    with statements(svc) as issued:
        await svc.deliver(*changes)
    await each.deliver_each(*changes)

    assert await state(svc) == await state(each)
    async with svc.transaction() as tx:
        customer = await tx.session.get(Customer, "c-1")
    assert customer is not None
    assert (customer.segment, customer.tags) == ("loyal", ["a", "b"])
    writes = [s for s in issued if s.startswith(("INSERT INTO customers", "UPDATE customers"))]
    assert len(writes) == 2  # one for the segment run, one for the tags run
    templates = [m.template for m in await messages_of(svc, "c-1")]
    assert templates == ["similar_to_viewed", "new_product_trial"]


async def test_duplicates_within_a_run_are_applied_once(svc: ServiceHarness) -> None:
    entered = segment("c-1", "new", "potential")
    opened = complaint("c-2", NOW, "t-1")
    reopened = {**opened, "id": "another-delivery-of-the-same-complaint"}
    outcomes = await svc.deliver(entered, entered, opened, opened, reopened)

    assert outcomes == ["handled", "duplicate", "handled", "duplicate", "handled"]
    assert [m.template for m in await messages_of(svc, "c-1")] == ["similar_to_viewed"]
    assert [m.dedupe_key for m in await messages_of(svc, "c-2")] == ["complaint_follow_up:t-1"]
    assert [e.type for e in await svc.published("silence.started")] == ["silence.started"]


async def test_mixed_customers_in_a_run_each_get_their_own_decisions(tmp_path: Path) -> None:
    # Four segments, entered once each: the two odd ones send two messages (6 in all).
    welcome = [{"channel": "wecom", "template": "new_product_trial"}]
    win_back = [
        {"channel": "sms", "template": "restock_coupon"},
        {"channel": "in_app", "template": "restock_coupon"},
    ]
    playbooks = {f"s{k}": win_back if k % 2 else welcome for k in range(4)}
    run = []
    for n in range(16):  # each customer: s0, s1, s2, s3
        customer_id = f"c-{n % 4}"
        old, new = (f"s{n // 4 - 1}" if n >= 4 else None), f"s{n // 4}"
        run.append(segment(customer_id, old, new, at=NOW - timedelta(minutes=60 - n)))
    registrations = [
        builders.customer_registered(f"c-{n}", phone="139", consents={"wecom": True, "sms": True})
        for n in range(3)  # c-3 is a stranger
    ]
    (tmp_path / "run").mkdir()
    (tmp_path / "each").mkdir()
    async with (
        service_harness(
            "engagement", tmp_path / "run", clock=FixedClock(NOW), playbooks=playbooks
        ) as svc,
        service_harness(
            "engagement", tmp_path / "each", clock=FixedClock(NOW), playbooks=playbooks
        ) as each,
    ):
        await svc.deliver(*registrations)
        await each.deliver(*registrations)
        await svc.deliver(*run)
        await each.deliver_each(*run)

        assert await state(svc) == await state(each)
        for n in range(3):  # each known customer meets the cap of 4 on their own
            decided = [(m.outcome, m.reason) for m in await messages_of(svc, f"c-{n}")]
            assert decided == [("pending", None)] * 4 + [("suppressed", "frequency_cap")] * 2
        stranger = await messages_of(svc, "c-3")  # no consent: only in_app goes
        assert {(m.channel, m.outcome) for m in stranger} == {
            ("wecom", "suppressed"),
            ("sms", "suppressed"),
            ("in_app", "pending"),
        }


@pytest.mark.parametrize("length", [1, 40])
async def test_a_run_costs_the_same_statements_whatever_its_length(
    svc: ServiceHarness, length: int
) -> None:
    run = [
        segment(f"c-{n % 10}", "new", "win_back", at=NOW - timedelta(minutes=n))
        for n in range(length)
    ]
    with statements(svc) as issued:
        await svc.deliver(*run)
    # inbox claim, customers read (locked), customers upsert, dedupe keys, cap count,
    # messages insert, outbox insert
    assert len(issued) == 7, issued


async def test_the_delivery_task_delivers_every_due_set_back_to_back(
    svc: ServiceHarness,
) -> None:
    await svc.deliver(*(complaint(f"c-{n}", NOW, f"t-{n}") for n in range(120)))
    with statements(svc) as issued:
        await svc.run_task("deliver_messages")  # sets of 50
    assert len(svc.context.recording.deliveries) == 120
    assert len([s for s in issued if s.startswith("SELECT") and "FROM messages" in s]) == 6
    assert len(await svc.published("message.sent")) == 120


@contextmanager
def statements(svc: ServiceHarness) -> Iterator[list[str]]:
    """The SQL statements the service's engine issues meanwhile, transaction control aside."""
    issued: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            issued.append(statement.strip())

    engine = svc.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield issued
    finally:
        event.remove(engine, "before_cursor_execute", record)
