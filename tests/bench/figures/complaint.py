"""Figure 3: complaint latency. Per sample, a fresh customer opens an inquiry on ticketing,
then a complaint (``POST /v1/tickets`` kind=complaint); from just before that POST, two tasks
poll (every 3 ms) until (a) engagement says the customer is silenced and (b) ticketing shows
the inquiry with a new priority, due time or history entry.

Baseline: broker produce -> consume with a bare producer and a consumer with
fetch_max_wait_ms=10, measured in the same run on the same broker.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.messaging.topics import ensure_topics
from tests.bench.context import BenchContext
from tests.bench.httpclient import HttpClient
from tests.bench.recording import Group
from tests.bench.stack import Stack
from tests.bench.stats import percentile, summary_ms

PING_TOPIC = "bench.ping"
GOAL_P50_MS, GOAL_P99_MS, GOAL_P99_UNDER_LOAD_MS = 30.0, 100.0, 250.0
RULE = (
    "3 complaint latency: per sample a fresh customer, an open inquiry, then POST a complaint; "
    "time from just before that POST until engagement GET /silence says silenced (a) and "
    "until ticketing GET /tickets/{inquiry} shows a new priority/due/history entry (b), each "
    "polled every 3 ms. Pass: p50 <= 30 ms and p99 <= 100 ms with no other load; p99 <= 250 ms "
    "under the storefront mix; and no sample timed out. Baseline: broker produce->consume p50."
)
WHAT = {"silenced": "complaint->silenced", "reprioritised": "complaint->reprioritised"}


@dataclass
class ComplaintSample:
    customer_id: str
    post_ms: float | None = None
    silenced_ms: float | None = None
    reprioritised_ms: float | None = None
    error: str | None = None


def _ticket(customer_id: str, kind: str) -> dict[str, Any]:
    subject = "Where is my parcel?" if kind == "inquiry" else "Parcel arrived damaged"
    return {"customer_id": customer_id, "kind": kind, "category": "logistics", "subject": subject}


def _changed(before: dict[str, Any], now: dict[str, Any]) -> bool:
    return (
        now["priority"] != before["priority"]
        or now["response_due_at"] != before["response_due_at"]
        or len(now.get("history") or []) > len(before.get("history") or [])
    )


async def one_sample(
    ticketing: HttpClient, engagement: HttpClient, poll_s: float, timeout_s: float
) -> ComplaintSample:
    sample = ComplaintSample(f"bench-cmp-{uuid.uuid4().hex[:12]}")
    customer = sample.customer_id
    inquiry = await ticketing.post_json("/v1/tickets", _ticket(customer, "inquiry"))
    if inquiry.status != 201:
        raise RuntimeError(f"POST inquiry answered {inquiry.status}: {inquiry.body[:200]!r}")
    before = inquiry.json()
    silence = await engagement.get(f"/v1/customers/{customer}/silence")
    if silence.status == 200 and silence.json().get("silenced"):
        raise RuntimeError("a fresh customer is silenced before any complaint")

    started = time.perf_counter()

    def elapsed_ms() -> float:
        return (time.perf_counter() - started) * 1000

    async def until(probe: Callable[[], Any]) -> float:
        while True:
            if await probe():
                return elapsed_ms()
            await asyncio.sleep(poll_s)

    async def silenced() -> bool:
        response = await engagement.get(f"/v1/customers/{customer}/silence")
        return response.status == 200 and bool(response.json().get("silenced"))

    async def reprioritised() -> bool:
        response = await ticketing.get(f"/v1/tickets/{before['id']}")
        return response.status == 200 and _changed(before, response.json())

    complaint = await ticketing.post_json("/v1/tickets", _ticket(customer, "complaint"))
    sample.post_ms = elapsed_ms()
    if complaint.status != 201:
        raise RuntimeError(f"POST complaint answered {complaint.status}: {complaint.body[:200]!r}")
    waits = [asyncio.create_task(until(silenced)), asyncio.create_task(until(reprioritised))]
    done, pending = await asyncio.wait(waits, timeout=timeout_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if waits[0] in done:
        sample.silenced_ms = waits[0].result()
    if waits[1] in done:
        sample.reprioritised_ms = waits[1].result()
    if pending:
        sample.error = f"not seen within {timeout_s}s"
    return sample


async def run_samples(
    stack: Stack,
    count: int | None,
    poll_s: float,
    timeout_s: float,
    *,
    until: float | None = None,
    pause_s: float = 0.0,
) -> list[ComplaintSample]:
    """``count`` samples back to back, or as many as fit before loop time ``until``."""
    stack.require("ticketing", "engagement")
    loop = asyncio.get_running_loop()
    samples: list[ComplaintSample] = []
    async with (
        stack.services["ticketing"].client() as ticketing,
        stack.services["engagement"].client() as engagement,
    ):
        while (count is None or len(samples) < count) and (
            until is None or loop.time() + timeout_s < until
        ):
            try:
                samples.append(await one_sample(ticketing, engagement, poll_s, timeout_s))
            except (OSError, TimeoutError, RuntimeError, ValueError, KeyError) as exc:
                samples.append(ComplaintSample("-", error=f"{type(exc).__name__}: {exc}"))
            if pause_s:
                await asyncio.sleep(pause_s)
    return samples


async def broker_round_trips(bootstrap: str, count: int) -> list[float]:
    """Milliseconds from a bare producer's send to a bare consumer's receipt, one at a time."""
    await ensure_topics(bootstrap, partitions=1, topics=[PING_TOPIC])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    consumer = AIOKafkaConsumer(
        PING_TOPIC,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
    )
    await producer.start()
    await consumer.start()
    try:
        await _round_trip(producer, consumer)  # warm: metadata, connections, position
        return [await _round_trip(producer, consumer) for _ in range(count)]
    finally:
        await consumer.stop()
        await producer.stop()


async def _round_trip(producer: AIOKafkaProducer, consumer: AIOKafkaConsumer) -> float:
    marker = uuid.uuid4().hex
    receive = asyncio.create_task(_receive(consumer, marker))
    started = time.perf_counter()
    await producer.send_and_wait(PING_TOPIC, json.dumps({"marker": marker}).encode())
    async with asyncio.timeout(10):
        await receive
    return (time.perf_counter() - started) * 1000


async def _receive(consumer: AIOKafkaConsumer, marker: str) -> None:
    while json.loads((await consumer.getone()).value)["marker"] != marker:
        pass


def add_figures(
    group: Group,
    samples: list[ComplaintSample],
    baseline_p50: float | None,
    *,
    under_load: bool,
) -> None:
    suffix = " under mix" if under_load else ""
    first = len(group.figures)
    failed = [s.error for s in samples if s.error]
    timed_out = len(failed)
    for what, label in WHAT.items():
        values = [v for s in samples if (v := getattr(s, f"{what}_ms")) is not None]
        p50, p99 = percentile(values, 50), percentile(values, 99)
        note = f"{len(values)}/{len(samples)} samples"
        if failed:
            note += f", {timed_out} failed ({failed[0][:60]})"
        details = {"summary": summary_ms(values), "failed": timed_out, "rule": RULE}
        common: dict[str, Any] = {"baseline": baseline_p50, "baseline_label": "broker p50"}
        if under_load:
            group.add(f"{what}/p99", f"3 {label} p99{suffix}", p99, "ms", **common,
                      goal=f"<= {GOAL_P99_UNDER_LOAD_MS:.0f} ms",
                      passed=_within(p99, GOAL_P99_UNDER_LOAD_MS, timed_out, values),
                      note=note + f", p50 {_ms(p50)}", details=details)  # fmt: skip
            continue
        group.add(f"{what}/p50", f"3 {label} p50", p50, "ms", **common,
                  goal=f"<= {GOAL_P50_MS:.0f} ms",
                  passed=_within(p50, GOAL_P50_MS, timed_out, values), note=note,
                  details=details)  # fmt: skip
        group.add(f"{what}/p99", f"3 {label} p99", p99, "ms", **common,
                  goal=f"<= {GOAL_P99_MS:.0f} ms",
                  passed=_within(p99, GOAL_P99_MS, timed_out, values), note=note)  # fmt: skip
    if len(group.figures) > first:
        group.figures[first].details["samples"] = [s.__dict__ for s in samples[:500]]


def _within(value: float | None, goal: float, timed_out: int, values: list[float]) -> bool:
    return value is not None and value <= goal and timed_out == 0 and bool(values)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


async def measure_quiet(bench: BenchContext, stack: Stack) -> float | None:
    """Samples with no other load, beside the broker's produce -> consume p50; returns it."""
    plan = bench.plan
    async with bench.recorder.group("complaint", "3 complaint latency", stack.databases.kind) as g:
        trips = await broker_round_trips(stack.broker.bootstrap, plan.broker_latency_samples)
        baseline = percentile(trips, 50)
        samples = await run_samples(
            stack, plan.complaint_samples, plan.complaint_poll_s, plan.complaint_timeout_s
        )
        add_figures(g, samples, baseline, under_load=False)
        g.figures[0].details["broker_round_trip"] = summary_ms(trips)
        return baseline
    return None
