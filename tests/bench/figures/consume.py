"""Figure 1: consumer throughput of one service alone on its main topic, beside a bare
aiokafka consumer reading the same pre-filled topic in the same run.

Per figure: a fresh broker; the topic pre-filled with N events (keys = customer ids); the
baseline reads it; then only that service starts (a process, fresh database) and its
/metrics is polled every 50 ms. Rate = events finished between the first poll that saw one
and the poll that saw N, over the time between those polls.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from tests.bench.context import BenchContext
from tests.bench.load import produce_all
from tests.bench.metrics import Snapshot, scrape
from tests.bench.recording import Group
from tests.bench.report import format_number
from tests.bench.stack import Service, start_alone, start_broker
from tests.bench.workload import prefill_events

GOAL_PER_SECOND = 5_000
TARGETS = (
    ("loyalty", "order.placed"),
    ("profile", "product.viewed"),
    ("profile", "order.placed"),
    ("segmentation", "order.placed"),
    ("engagement", "segment.changed"),
    ("ticketing", "tier.changed"),
)
FIRST_EVENT_TIMEOUT_S = 60.0
# Only one member per group here: a shorter session than `loopcrm up`'s 6 s only shortens
# the first join (about half of it), which the figure does not count anyway.
SESSION_TIMEOUT_MS = 3000


async def measure(bench: BenchContext) -> None:
    kind = bench.primary_database
    for service, topic in TARGETS:
        title = f"1 consume {service} {topic}"
        async with bench.recorder.group(f"consume/{service}/{topic}", title, kind) as group:
            await _measure_one(bench, group, service, topic)


async def _measure_one(bench: BenchContext, group: Group, service: str, topic: str) -> None:
    plan = bench.plan
    n = plan.consume_events
    scratch = bench.scratch(f"consume-{service}-{topic}")
    databases = bench.databases(bench.primary_database, scratch.name)
    events = prefill_events(topic, n, plan.consume_customers)
    broker = await start_broker(bench.processes, scratch / "logs")
    try:
        prefill_s = await produce_all(broker.bootstrap, events)
        baseline = await bare_consume(broker.bootstrap, topic, n, plan.consume_timeout_s)
        process = await start_alone(
            bench.processes, databases, broker, service, scratch, SESSION_TIMEOUT_MS
        )
        try:
            run = await follow(process, topic, n, plan.consume_poll_s, plan.consume_timeout_s)
        finally:
            bench.processes.stop([process.child])
    finally:
        bench.processes.stop([broker.child], timeout=2)
        await bench.drop(databases)
    complete = run.finished >= n and run.dead_lettered == 0
    rate = run.per_second
    note = f"{n:,} events; {run.seconds:.2f}s"
    if not complete:
        note = (
            f"INCOMPLETE {run.finished:,.0f}/{n:,} finished, {run.dead_lettered:.0f} dead-lettered"
        )
    if baseline.per_second and rate:
        note += f"; {rate / baseline.per_second:.1%} of baseline"
    group.add(
        "",
        group.title,
        rate,
        "ev/s",
        baseline=baseline.per_second,
        baseline_label="bare aiokafka",
        goal=f">= {format_number(GOAL_PER_SECOND)} ev/s",
        passed=complete and rate is not None and rate >= GOAL_PER_SECOND,
        note=note,
        details={
            "events": n,
            "customers": bench.plan.consume_customers,
            "prefill_seconds": round(prefill_s, 3),
            "service": run.__dict__,
            "baseline": baseline.__dict__,
            "measure": "finished events (handled+duplicate+dead_lettered) from the first "
            "/metrics poll that saw one to the poll that saw N, over the time between",
        },
    )


@dataclass
class Consumption:
    seconds: float = 0.0
    counted: float = 0.0
    finished: float = 0.0
    handled: float = 0.0
    dead_lettered: float = 0.0
    retried: float = 0.0
    polls: int = 0
    first_event_after_s: float = 0.0
    timed_out: bool = False
    outcomes: dict[str, float] = field(default_factory=dict)

    @property
    def per_second(self) -> float | None:
        return self.counted / self.seconds if self.seconds > 0 and self.counted > 0 else None


async def follow(
    service: Service, topic: str, n: int, poll_s: float, timeout_s: float
) -> Consumption:
    """Poll the service's /metrics until N events of ``topic`` are finished (or time is up)."""
    run = Consumption()
    async with service.client() as client:
        first: tuple[float, float] | None = None
        waiting_since = time.perf_counter()
        while True:
            snapshot = await scrape(client)
            now = time.perf_counter()
            run.polls += 1
            finished = snapshot.finished(topic)
            if first is None and finished > 0:
                first = (now, finished)
                run.first_event_after_s = round(now - waiting_since, 2)
            if first is None and now - waiting_since > FIRST_EVENT_TIMEOUT_S:
                raise TimeoutError(f"{service.name} handled nothing in {FIRST_EVENT_TIMEOUT_S}s")
            if first is not None:
                run.seconds, run.counted = now - first[0], finished - first[1]
                if finished >= n or now - first[0] > timeout_s:
                    run.timed_out = finished < n
                    _record_outcomes(run, snapshot, topic)
                    return run
            await asyncio.sleep(poll_s)


def _record_outcomes(run: Consumption, snapshot: Snapshot, topic: str) -> None:
    run.finished = snapshot.finished(topic)
    run.handled = snapshot.consumed(topic, "handled")
    run.dead_lettered = snapshot.consumed(topic, "dead_lettered")
    run.retried = snapshot.consumed(topic, "retried")
    run.outcomes = {
        outcome: snapshot.consumed(topic, outcome)
        for outcome in ("handled", "duplicate", "retried", "dead_lettered")
    }


@dataclass
class BareConsumption:
    events: int = 0
    seconds: float = 0.0
    counted: int = 0

    @property
    def per_second(self) -> float | None:
        return self.counted / self.seconds if self.seconds > 0 else None


async def bare_consume(bootstrap: str, topic: str, n: int, timeout_s: float) -> BareConsumption:
    """A bare aiokafka consumer: fresh group, fetch_max_wait_ms=10, json-decodes each value,
    commits after each batch. Timed from the end of the first batch to the N-th event."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-bare-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
        max_poll_records=200,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    result = BareConsumption()
    started: tuple[float, int] | None = None
    try:
        deadline = time.perf_counter() + FIRST_EVENT_TIMEOUT_S + timeout_s
        while result.events < n and time.perf_counter() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=200)
            for tp, records in batch.items():
                for record in records:
                    json.loads(record.value)
                result.events += len(records)
                await consumer.commit({tp: records[-1].offset + 1})
            if batch and started is None:
                started = (time.perf_counter(), result.events)
        if started is not None:
            result.seconds = time.perf_counter() - started[0]
            result.counted = result.events - started[1]
    finally:
        await consumer.stop()
    return result
