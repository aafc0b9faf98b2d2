"""Load: producing events (all at once, or open-loop paced on a schedule) and HTTP requests
(open-loop on a schedule, closed-loop on a few keep-alive connections).

``python -m tests.bench.load mix ...`` runs the paced storefront mix in a process of its own,
so that producing never shares an event loop with what the bench measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from tests.bench.httpclient import HttpClient, HttpResponse
from tests.bench.workload import Event, StorefrontMix, customer_ids

HEADERS = [("content-type", b"application/cloudevents+json")]

# The paced storefront batches like a producer tuned for throughput (Kafka's linger.ms): each
# send is a batch per partition, and the embedded broker keeps every batch it was sent as one
# object that it lists again on every fetch, so its cost grows with the batches, not the events.
STOREFRONT_LINGER_MS = 100


def _producer(bootstrap: str, linger_ms: int) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=False,
        linger_ms=linger_ms,
        max_batch_size=256 * 1024,
    )


async def produce_all(bootstrap: str, events: Iterable[Event]) -> float:
    """Send every event (key = customer id) as fast as the broker takes them; seconds taken."""
    producer = _producer(bootstrap, linger_ms=20)
    await producer.start()
    try:
        started = time.perf_counter()
        deliveries = []
        for event in events:
            deliveries.append(
                await producer.send(
                    event["type"],
                    json.dumps(event).encode(),
                    key=event["subject"].encode(),
                    headers=HEADERS,
                )
            )
        await asyncio.gather(*deliveries)
        return time.perf_counter() - started
    finally:
        await producer.stop()


@dataclass
class PacedResult:
    target_rate: float
    seconds: float
    sent: int = 0
    failed: int = 0
    send_seconds: float = 0.0
    max_behind: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    started_at: float = 0.0

    @property
    def achieved_rate(self) -> float:
        return self.sent / self.send_seconds if self.send_seconds else 0.0


async def produce_paced(
    bootstrap: str,
    events: Iterator[Event],
    rate: float,
    seconds: float,
    *,
    tick_s: float = 0.005,
    on_start: Callable[[], None] | None = None,
) -> PacedResult:
    """Open loop: the i-th event goes out at start + i/rate whatever the broker or the
    services do (a late tick catches up at once); deliveries are counted, never awaited
    one by one."""
    result = PacedResult(rate, seconds)
    producer = _producer(bootstrap, linger_ms=STOREFRONT_LINGER_MS)
    await producer.start()
    batches = _OpenBatches(producer, result)
    try:
        loop = asyncio.get_running_loop()
        if on_start is not None:
            on_start()
        result.started_at = time.time()
        start = loop.time()
        flush_at = start + STOREFRONT_LINGER_MS / 1000
        total = int(rate * seconds)
        while result.sent < total:
            due = min(total, int(rate * (loop.time() - start)) + 1)
            result.max_behind = max(result.max_behind, due - result.sent - 1)
            while result.sent < due:
                await batches.add(next(events))
                result.sent += 1
            if loop.time() >= flush_at:
                await batches.send_all()
                flush_at += STOREFRONT_LINGER_MS / 1000
            await asyncio.sleep(tick_s)
        result.send_seconds = loop.time() - start
        await batches.send_all()
        await batches.delivered()
    finally:
        await producer.stop()
    return result


class _OpenBatches:
    """The paced storefront's open batches, one per topic and partition, each sent when the
    linger period ends (or it is full): the batches a producer lingering that long sends,
    built with the producer's batch API, so that the generator's own CPU (it shares the
    machine with what it measures) is a fraction of a send per event. Partitions are those of
    the default partitioner: a customer's events keep their order."""

    def __init__(self, producer: AIOKafkaProducer, result: PacedResult) -> None:
        self._producer = producer
        self._result = result
        self._partitioner = DefaultPartitioner()
        self._partitions: dict[str, list[int]] = {}
        self._partition_of: dict[tuple[str, bytes], int] = {}
        self._open: dict[tuple[str, int], tuple[BatchBuilder, int]] = {}
        self._sent: list[asyncio.Future[Any]] = []

    async def add(self, event: Event) -> None:
        topic, key = event["type"], event["subject"].encode()
        partition = await self._partition(topic, key)
        value = json.dumps(event).encode()
        builder, count = self._open.get((topic, partition)) or (self._producer.create_batch(), 0)
        if builder.append(timestamp=None, key=key, value=value, headers=HEADERS) is None:
            await self._send(topic, partition, builder, count)
            builder, count = self._producer.create_batch(), 0
            builder.append(timestamp=None, key=key, value=value, headers=HEADERS)
        self._open[(topic, partition)] = (builder, count + 1)

    async def send_all(self) -> None:
        open_batches, self._open = self._open, {}
        for (topic, partition), (builder, count) in open_batches.items():
            await self._send(topic, partition, builder, count)

    async def delivered(self) -> None:
        await asyncio.gather(*self._sent, return_exceptions=True)

    async def _partition(self, topic: str, key: bytes) -> int:
        partition = self._partition_of.get((topic, key))
        if partition is None:
            if topic not in self._partitions:
                self._partitions[topic] = sorted(await self._producer.partitions_for(topic))
            every = self._partitions[topic]
            partition = self._partition_of[(topic, key)] = self._partitioner(key, every, every)
        return partition

    async def _send(self, topic: str, partition: int, builder: BatchBuilder, count: int) -> None:
        result = self._result

        def delivered(future: asyncio.Future[Any]) -> None:
            if future.cancelled() or future.exception() is not None:
                result.failed += count

        sending = await self._producer.send_batch(builder, topic, partition=partition)
        sending.add_done_callback(delivered)
        self._sent.append(sending)


# --- HTTP ------------------------------------------------------------------------------------

Check = Callable[[str, HttpResponse], bool]


def is_ok(_path: str, response: HttpResponse) -> bool:
    return response.status == 200


@dataclass
class OpenLoopResult:
    rate: float
    seconds: float
    sent: int = 0
    ok: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)


async def open_loop(
    client: HttpClient, next_path: Callable[[], str], check: Check, rate: float, seconds: float
) -> OpenLoopResult:
    """Request i starts at start + i/rate, whether earlier ones have answered or not; its
    latency counts from that scheduled moment (a late start is waiting, too)."""
    result = OpenLoopResult(rate, seconds)
    loop = asyncio.get_running_loop()
    start = loop.time()
    total = int(rate * seconds)
    tasks: list[asyncio.Task[None]] = []

    async def one(path: str, scheduled: float) -> None:
        try:
            response = await client.get(path, timeout=5)
            good = check(path, response)
            reason = f"{response.status} {response.body[:120]!r}"
        except Exception as exc:
            good, reason = False, repr(exc)
        result.latencies_ms.append((loop.time() - scheduled) * 1000)
        if good:
            result.ok += 1
        else:
            result.errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(f"{path}: {reason}")

    while result.sent < total:
        scheduled = start + result.sent / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(next_path(), scheduled)))
        result.sent += 1
    await asyncio.gather(*tasks)
    return result


@dataclass
class ClosedLoopResult:
    connections: int
    seconds: float
    ok: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


async def closed_loop(
    connect: Callable[[], HttpClient],
    next_path: Callable[[], str],
    check: Check,
    connections: int,
    seconds: float,
) -> ClosedLoopResult:
    """``connections`` workers, each on its own keep-alive connection, request after request."""
    result = ClosedLoopResult(connections, seconds)
    loop = asyncio.get_running_loop()

    async def worker(deadline: float) -> None:
        async with connect() as client:
            while loop.time() < deadline:
                path = next_path()
                try:
                    response = await client.get(path, timeout=10)
                    good, reason = check(path, response), f"{response.status}"
                except Exception as exc:
                    good, reason = False, repr(exc)
                if good:
                    result.ok += 1
                else:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(f"{path}: {reason}")

    start = loop.time()
    await asyncio.gather(*(worker(start + seconds) for _ in range(connections)))
    result.seconds = loop.time() - start
    return result


async def timed(awaitable: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await awaitable
    return time.perf_counter() - started


# --- the mix, as a process of its own --------------------------------------------------------


def mix_command(
    python: str, bootstrap: str, rate: float, seconds: float, customers: int, result: Path
) -> list[str]:
    return [
        python, "-m", "tests.bench.load", "mix", "--bootstrap", bootstrap,
        "--rate", str(rate), "--seconds", str(seconds), "--customers", str(customers),
        "--result", str(result),
    ]  # fmt: skip


def started_marker(result: Path) -> Path:
    return result.with_name(result.name + ".started")


async def _run_mix(args: argparse.Namespace) -> None:
    result_path = Path(args.result)
    mix = StorefrontMix(customer_ids("bench-c", args.customers))
    result = await produce_paced(
        args.bootstrap,
        mix,
        args.rate,
        args.seconds,
        on_start=lambda: started_marker(result_path).touch(),
    )
    result.counts = mix.counts
    payload = asdict(result) | {"achieved_rate": result.achieved_rate}
    await asyncio.to_thread(result_path.write_text, json.dumps(payload))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.load")
    commands = parser.add_subparsers(dest="command", required=True)
    mix = commands.add_parser("mix", help="produce the storefront mix, open-loop paced")
    mix.add_argument("--bootstrap", required=True)
    mix.add_argument("--rate", type=float, required=True)
    mix.add_argument("--seconds", type=float, required=True)
    mix.add_argument("--customers", type=int, required=True)
    mix.add_argument("--result", required=True)
    args = parser.parse_args()
    asyncio.run(_run_mix(args))


if __name__ == "__main__":
    main()
