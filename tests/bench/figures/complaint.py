"""Figure 3: complaint latency. Per sample, a fresh customer opens an inquiry on ticketing,
then a complaint (``POST /v1/tickets`` kind=complaint); timed from just before that POST until
the broker carries (a) engagement's ``silence.started`` for the customer and (b) ticketing's
``ticket.prioritized`` for the inquiry, read by a bare consumer (fetch wait 10 ms). Each
effect's event leaves its service after the commit that made it, so this is an upper bound of
when the API shows it; the API is then asked once, to check that it does. (Polling both APIs
every few milliseconds instead would load the two services and the machine with hundreds of
requests a second and measure that load.)

Baseline: broker produce -> consume with a bare producer and a consumer with
fetch_max_wait_ms=10, measured in the same run on the same broker.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
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
    "time from just before that POST until the broker carries engagement's silence.started "
    "for the customer (a) and ticketing's ticket.prioritized for the inquiry (b), read by a "
    "bare consumer with a 10 ms fetch wait (an upper bound of when each API shows it; each "
    "API is then checked once). Pass: p50 <= 30 ms and p99 <= 100 ms with no other load; "
    "p99 <= 250 ms under the storefront mix; and no sample timed out or failed its check. "
    "Baseline: broker produce->consume p50."
)
EFFECTS = ("silence.started", "ticket.prioritized")
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


class EffectWatcher:
    """Reads the complaint loop's effects off the broker: when each (event type, key) was
    first seen, where the key is the customer (silence) or the ticket (priority)."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._consumer = AIOKafkaConsumer(
            *EFFECTS,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="latest",
            fetch_max_wait_ms=10,
        )
        self._seen: dict[tuple[str, str], float] = {}
        self._arrived = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EffectWatcher:
        await ensure_topics(self._bootstrap, topics=EFFECTS)
        await self._consumer.start()
        await self._consumer.seek_to_end()
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    event = json.loads(record.value)
                    key = event["data"].get("ticket_id") if record.topic == EFFECTS[1] else None
                    self._seen.setdefault((record.topic, key or event["subject"]), now)
            if batch:
                async with self._arrived:
                    self._arrived.notify_all()

    async def seen_at(self, event_type: str, key: str) -> float:
        async with self._arrived:
            await self._arrived.wait_for(lambda: (event_type, key) in self._seen)
        return self._seen[(event_type, key)]


async def one_sample(
    ticketing: HttpClient, engagement: HttpClient, watcher: EffectWatcher, timeout_s: float
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
    silenced = asyncio.create_task(watcher.seen_at("silence.started", customer))
    reprioritised = asyncio.create_task(watcher.seen_at("ticket.prioritized", before["id"]))
    complaint = await ticketing.post_json("/v1/tickets", _ticket(customer, "complaint"))
    sample.post_ms = (time.perf_counter() - started) * 1000
    if complaint.status != 201:
        raise RuntimeError(f"POST complaint answered {complaint.status}: {complaint.body[:200]!r}")
    done, pending = await asyncio.wait((silenced, reprioritised), timeout=timeout_s)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if silenced in done:
        sample.silenced_ms = (silenced.result() - started) * 1000
        answer = await engagement.get(f"/v1/customers/{customer}/silence")
        if not (answer.status == 200 and answer.json().get("silenced")):
            sample.error = "silence.started published but the API does not say silenced"
    if reprioritised in done:
        sample.reprioritised_ms = (reprioritised.result() - started) * 1000
        answer = await ticketing.get(f"/v1/tickets/{before['id']}")
        if not (answer.status == 200 and _changed(before, answer.json())):
            sample.error = "ticket.prioritized published but the API shows the ticket unchanged"
    if pending:
        sample.error = f"not seen within {timeout_s}s"
    return sample


async def run_samples(
    stack: Stack,
    count: int | None,
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
        EffectWatcher(stack.broker.bootstrap) as watcher,
    ):
        while (count is None or len(samples) < count) and (
            until is None or loop.time() + timeout_s < until
        ):
            try:
                samples.append(await one_sample(ticketing, engagement, watcher, timeout_s))
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
        samples = await run_samples(stack, plan.complaint_samples, plan.complaint_timeout_s)
        add_figures(g, samples, baseline, under_load=False)
        g.figures[0].details["broker_round_trip"] = summary_ms(trips)
        return baseline
    return None
