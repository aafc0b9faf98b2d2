"""A run of events is applied as a set: the same state as one event per transaction, one
evaluation and at most one segment.changed per customer per run, duplicates counted once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from services.segmentation.models import CustomerComplaint, CustomerOrder, SegmentMember
from shared.clock import FixedClock
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import ServiceHarness, service_harness

T0 = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@asynccontextmanager
async def two_services(tmp_path: Path) -> AsyncIterator[tuple[ServiceHarness, ServiceHarness]]:
    """One service to apply a run in one transaction, one to apply it event by event."""
    (tmp_path / "run").mkdir()
    (tmp_path / "each").mkdir()
    async with (
        service_harness("segmentation", tmp_path / "run", clock=FixedClock(T0)) as run,
        service_harness("segmentation", tmp_path / "each", clock=FixedClock(T0)) as each,
    ):
        yield run, each


def placed(customer_id: str, amount: str, at: datetime, order_id: str | None = None) -> Any:
    return builders.order_placed(customer_id, amount=amount, order_id=order_id, at=at)


async def state(svc: ServiceHarness) -> dict[str, list[tuple[Any, ...]]]:
    """Every row segmentation holds, by table, in key order."""
    tables = {
        "members": (SegmentMember, SegmentMember.customer_id),
        "orders": (CustomerOrder, CustomerOrder.order_id),
        "complaints": (CustomerComplaint, CustomerComplaint.ticket_id),
    }
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with svc.runtime.read() as session:
        for name, (model, order) in tables.items():
            table = model.__table__
            rows = await session.execute(select(table).order_by(table.c.customer_id, order))
            found[name] = [tuple(row) for row in rows]
    return found


async def changes(svc: ServiceHarness) -> dict[str, list[tuple[Any, Any]]]:
    """Each customer's segment changes, in order."""
    by_customer: dict[str, list[tuple[Any, Any]]] = {}
    for event in await svc.published("segment.changed"):
        change = (event.data["old_segment"], event.data["new_segment"])
        by_customer.setdefault(event.subject, []).append(change)
    return by_customer


async def test_a_run_leaves_the_state_of_one_event_per_transaction(tmp_path: Path) -> None:
    loyal, newcomer, tagged = new_id("c"), new_id("c"), new_id("c")
    repeat_order = new_id("o")
    refunded_order = new_id("o")
    twice = placed(newcomer, "80", T0 - 3 * DAY)
    events = [
        *[placed(loyal, "150", T0 - days * DAY) for days in (20, 12, 6)],
        placed(newcomer, "60", T0 - 9 * DAY, refunded_order),
        twice,
        placed(tagged, "90", T0 - 8 * DAY, repeat_order),
        placed(loyal, "150", T0 - DAY),
        twice,
        placed(tagged, "90", T0 - 8 * DAY, repeat_order),
        builders.order_refunded(newcomer, refunded_order, amount="60", at=T0 - DAY),
        builders.profile_tagged(tagged, tags=["a", "b", "c"], at=T0 - 2 * DAY),
        placed(tagged, "40", T0 - 2 * DAY),
        builders.complaint_opened(newcomer, category="quality", at=T0 - DAY),
    ]
    async with two_services(tmp_path) as (run, each):
        outcomes = await run.deliver(*events)
        assert outcomes == await each.deliver_each(*events)
        assert outcomes.count("duplicate") == 1

        assert await state(run) == await state(each)
        in_run, one_by_one = await changes(run), await changes(each)
        assert {c: moves[-1][1] for c, moves in in_run.items()} == {
            c: moves[-1][1] for c, moves in one_by_one.items()
        }
        assert in_run[loyal] == [(None, "loyal")]
        assert one_by_one[loyal] == [(None, "new"), ("new", "regular"), ("regular", "loyal")]


async def test_one_evaluation_and_at_most_one_change_per_customer_per_run(
    tmp_path: Path,
) -> None:
    first, second = new_id("c"), new_id("c")
    run_of_orders = [
        placed(first, "200", T0 - 10 * DAY),
        placed(second, "50", T0 - 2 * DAY),
        placed(first, "200", T0 - 5 * DAY),
        placed(first, "200", T0 - 3 * DAY),
        placed(first, "200", T0 - DAY),
    ]
    async with two_services(tmp_path) as (run, _each):
        await run.deliver(*run_of_orders)
        assert await changes(run) == {first: [(None, "loyal")], second: [(None, "new")]}

        clock = run.clock
        assert isinstance(clock, FixedClock)
        clock.advance(DAY)
        await run.deliver(placed(second, "50", T0), placed(second, "50", T0 + DAY / 2))
        assert (await changes(run))[second] == [(None, "new"), ("new", "regular")]
        rfm = (await run.published("segment.changed"))[-1].data["rfm"]
        assert rfm == {"recency_days": 0, "frequency": 3, "monetary": "150.00"}


async def test_duplicates_within_a_run_count_once(tmp_path: Path) -> None:
    customer, order_id, ticket_id = new_id("c"), new_id("o"), new_id("t")
    order = placed(customer, "120", T0 - DAY, order_id)
    complaint = builders.complaint_opened(customer, ticket_id=ticket_id, at=T0 - DAY)
    async with two_services(tmp_path) as (run, _each):
        outcomes = await run.deliver(
            order,
            order,
            placed(customer, "120", T0 - DAY, order_id),
            complaint,
            builders.complaint_opened(customer, ticket_id=ticket_id, at=T0 - DAY),
        )

        assert outcomes == ["handled", "duplicate", "handled", "handled", "handled"]
        response = await run.client.get(f"/v1/customers/{customer}/segment")
        body = response.json()
        assert (body["frequency"], body["monetary"], body["segment"]) == (1, "120.00", "new")
        members = (await state(run))["members"]
        assert len(members) == 1 and len((await state(run))["complaints"]) == 1


async def test_a_run_of_refunds_nets_each_order_and_waits_for_unknown_ones(
    tmp_path: Path,
) -> None:
    customer, kept, refunded, later = new_id("c"), new_id("o"), new_id("o"), new_id("o")
    events = [
        placed(customer, "300", T0 - 40 * DAY, kept),
        placed(customer, "200", T0 - 2 * DAY, refunded),
        builders.order_refunded(customer, kept, amount="100", at=T0 - DAY),
        builders.order_refunded(customer, refunded, amount="150", at=T0 - DAY),
        builders.order_refunded(customer, later, amount="30", at=T0 - DAY),
        builders.order_refunded(customer, refunded, amount="50", at=T0 - DAY),
        builders.order_refunded(customer, kept, amount="0.01", at=T0 - DAY),
        placed(customer, "30", T0 - DAY, later),
    ]
    async with two_services(tmp_path) as (run, each):
        await run.deliver(*events)
        await each.deliver_each(*events)

        assert await state(run) == await state(each)
        body = (await run.client.get(f"/v1/customers/{customer}/segment")).json()
        # The second order is refunded in full, the late one arrived refunded in full: the
        # first order alone counts, 40 days old, net of its two refunds.
        assert (body["recency_days"], body["frequency"], body["monetary"]) == (40, 1, "199.99")


async def test_a_full_refund_of_the_latest_order_finds_the_one_before_beyond_the_window(
    tmp_path: Path,
) -> None:
    customer, latest = new_id("c"), new_id("o")
    clock = FixedClock(T0 - 500 * DAY)
    async with service_harness("segmentation", tmp_path, clock=clock) as svc:
        await svc.deliver(placed(customer, "80", T0 - 500 * DAY))
        clock.set(T0 - 400 * DAY)
        await svc.deliver(placed(customer, "90", T0 - 400 * DAY, latest))
        clock.set(T0)
        await svc.run_task("segment-sweep")
        assert (await svc.client.get(f"/v1/customers/{customer}/segment")).json()[
            "recency_days"
        ] == 400

        await svc.deliver(builders.order_refunded(customer, latest, amount="90", at=T0))

        body = (await svc.client.get(f"/v1/customers/{customer}/segment")).json()
        assert (body["segment"], body["recency_days"], body["frequency"]) == ("dormant", 500, 0)


async def member_row(svc: ServiceHarness, customer_id: str) -> Any:
    async with svc.transaction() as tx:
        return await tx.session.get(SegmentMember, customer_id)


async def test_a_review_while_the_segment_is_settled_only_moves_recency(tmp_path: Path) -> None:
    customer = new_id("c")
    clock = FixedClock(T0)
    async with service_harness("segmentation", tmp_path, clock=clock) as svc:
        await svc.deliver(placed(customer, "100", T0 - 2 * DAY))
        member = await member_row(svc, customer)
        # "new" holds until recency reaches 30 days.
        assert member.settled_until == T0 + 28 * DAY
        assert member.review_at == T0 + DAY

        clock.advance(3 * DAY)
        await svc.run_task("segment-sweep")
        member = await member_row(svc, customer)
        assert (member.segment, member.recency_days, member.evaluated_at) == ("new", 5, clock.now())
        assert member.review_at == T0 + 4 * DAY
        assert await changes(svc) == {customer: [(None, "new")]}

        clock.set(T0 + 28 * DAY)
        await svc.run_task("segment-sweep")
        member = await member_row(svc, customer)
        assert (member.segment, member.recency_days) == ("regular", 30)
        assert await changes(svc) == {customer: [(None, "new"), ("new", "regular")]}


async def test_the_sweep_sees_an_order_leave_the_window(tmp_path: Path) -> None:
    customer = new_id("c")
    clock = FixedClock(T0)
    async with service_harness("segmentation", tmp_path, clock=clock) as svc:
        await svc.deliver(placed(customer, "400", T0 - 364 * DAY), placed(customer, "100", T0))
        assert (await member_row(svc, customer)).settled_until == T0 + DAY

        clock.advance(DAY)
        await svc.run_task("segment-sweep")

        member = await member_row(svc, customer)
        assert (member.frequency, member.monetary, member.recency_days) == (1, 100, 1)
        assert member.recent_orders == [[T0.isoformat(), 10_000]]


async def test_the_sweep_reviews_every_due_customer_chunk_by_chunk(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    async with service_harness("segmentation", tmp_path, clock=clock, sweep_batch_size=3) as svc:
        settled = [new_id("c") for _ in range(4)]
        turning = [new_id("c") for _ in range(4)]
        await svc.deliver(
            *[placed(c, "100", T0 - 5 * DAY) for c in settled],
            *[placed(c, "100", T0 - 29 * DAY - DAY / 2) for c in turning],
        )

        clock.advance(DAY)
        await svc.run_task("segment-sweep")

        for customer in settled:
            member = await member_row(svc, customer)
            assert (member.segment, member.recency_days) == ("new", 6)
        for customer in turning:
            member = await member_row(svc, customer)
            assert (member.segment, member.recency_days) == ("regular", 30)
        assert all(
            member.review_at > clock.now()
            for member in [await member_row(svc, c) for c in settled + turning]
        )
