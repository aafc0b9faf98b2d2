"""``loopcrm dlq list [TOPIC]`` and ``loopcrm dlq replay TOPIC``: the dead letters, and sending
them back to the topic they came from, with their key and headers (the inboxes make a replay of
an event already handled harmless)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from shared.cli.addresses import Bootstrap, broker_address
from shared.cli.output import console
from shared.events.catalogue import DLQ_SUFFIX, TOPICS, dead_letter_topic

app = typer.Typer(
    help="Dead letters: what failed and why, and sending them back.", no_args_is_help=True
)

TopicArgument = Annotated[
    str | None, typer.Argument(metavar="TOPIC", help="e.g. order.placed (default: every topic)")
]
_EMPTY_ROUNDS = 2


@dataclass(frozen=True)
class DeadLetter:
    dlq_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return ""

    @property
    def original(self) -> tuple[str, str, str]:
        return (
            self.header("dlq-original-topic") or self.dlq_topic.removesuffix(DLQ_SUFFIX),
            self.header("dlq-original-partition"),
            self.header("dlq-original-offset"),
        )

    @property
    def failed_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.header("dlq-failed-at"))
        except ValueError:
            return None

    @property
    def is_reference(self) -> bool:
        """Only a reference to the original (it was too large to dead-letter whole)."""
        return self.header("dlq-value") == "reference"

    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The headers the original carried (the dlq-* ones were added on the way in)."""
        return [(k, v) for k, v in self.headers if not k.startswith("dlq-")]


@app.command("list")
def list_dead_letters(topic: TopicArgument = None, bootstrap: Bootstrap = None) -> None:
    """Every dead letter (of TOPIC): why, the error, where it came from and how long ago."""
    letters = _read(broker_address(bootstrap), _dlq_topics(topic))
    table = Table("dead-letter topic", "offset", "reason", "error", "original", "group", "age")
    now = datetime.now(UTC)
    for letter in letters:
        failed_at = letter.failed_at
        table.add_row(
            letter.dlq_topic,
            f"{letter.partition}/{letter.offset}",
            letter.header("dlq-reason"),
            letter.header("dlq-error")[:80],
            "{}[{}]@{}".format(*letter.original),
            letter.header("dlq-consumer-group"),
            _age(now - failed_at) if failed_at else "?",
        )
    console().print(table)
    typer.echo(f"{len(letters)} dead letters")


@app.command("replay")
def replay(
    topic: Annotated[str, typer.Argument(metavar="TOPIC", help="e.g. order.placed")],
    since: Annotated[
        datetime | None, typer.Option(help="Only dead letters that failed at or after this.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Show what would be sent, send nothing.")] = False,
    bootstrap: Bootstrap = None,
) -> None:
    """Send TOPIC's dead letters back to TOPIC with their key and headers. An event that
    several services dead-lettered goes back once; a reference (too large to keep) cannot."""
    address = broker_address(bootstrap)
    [dlq] = _dlq_topics(topic)
    chosen: dict[tuple[str, str, str], DeadLetter] = {}
    references = 0
    for letter in _read(address, [dlq]):
        failed_at = letter.failed_at
        if since is not None and (failed_at is None or failed_at < _aware(since)):
            continue
        if letter.is_reference:
            references += 1
            continue
        chosen.setdefault(letter.original, letter)
    original_topic = dlq.removesuffix(DLQ_SUFFIX)
    if not dry_run and chosen:
        asyncio.run(_send_back(address, original_topic, list(chosen.values())))
    verb = "would go back" if dry_run else "sent back"
    typer.echo(f"{len(chosen)} dead letters {verb} to {original_topic}")
    if references:
        typer.echo(
            f"{references} were kept as references only (too large): "
            "find the original at the offset they name",
            err=True,
        )


def _dlq_topics(topic: str | None) -> list[str]:
    if topic is None:
        return [dead_letter_topic(t) for t in TOPICS]
    original = topic.removesuffix(DLQ_SUFFIX)
    if original not in TOPICS:
        raise typer.BadParameter(f"{topic!r} is not a catalogue topic")
    return [dead_letter_topic(original)]


def _read(bootstrap: str, topics: list[str]) -> list[DeadLetter]:
    try:
        return asyncio.run(_read_all(bootstrap, topics))
    except Exception as exc:  # the broker's errors, whatever their class
        typer.echo(f"could not read the dead letters from {bootstrap}: {exc}", err=True)
        raise typer.Exit(1) from exc


async def _read_all(bootstrap: str, topics: list[str]) -> list[DeadLetter]:
    """Every record of ``topics`` from the start, read without a consumer group (nothing is
    committed, so reading changes nothing)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            for number in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        letters: list[DeadLetter] = []
        empty = 0
        while empty < _EMPTY_ROUNDS:
            batch = await consumer.getmany(timeout_ms=500, max_records=1000)
            records: list[Any] = [r for rs in batch.values() for r in rs]
            empty = 0 if records else empty + 1
            letters.extend(
                DeadLetter(r.topic, r.partition, r.offset, r.key, r.value, tuple(r.headers or ()))
                for r in records
            )
        return sorted(letters, key=lambda d: (d.dlq_topic, d.partition, d.offset))
    finally:
        await consumer.stop()


async def _send_back(bootstrap: str, topic: str, letters: list[DeadLetter]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        for letter in letters:
            await producer.send_and_wait(
                topic, letter.value, key=letter.key, headers=letter.replay_headers()
            )
    finally:
        await producer.stop()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _age(elapsed: Any) -> str:
    seconds = int(elapsed.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
