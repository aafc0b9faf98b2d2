"""``loopcrm emit TYPE --data JSON``: one event, checked against the catalogue, published as a
storefront's producer publishes it (its type's topic, keyed by the customer, structured mode)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import typer
from pydantic import ValidationError

from shared.cli.addresses import Bootstrap, broker_address
from shared.events.catalogue import CATALOGUE, data_model_for
from shared.events.envelope import CloudEvent, encode_event


def emit(
    event_type: Annotated[str, typer.Argument(metavar="TYPE", help="e.g. order.placed")],
    data: Annotated[str, typer.Option(help="The event's data as JSON: '{\"customer_id\": ...}'")],
    source: Annotated[str, typer.Option(help="The CloudEvents source.")] = "storefront",
    event_id: Annotated[
        str | None, typer.Option("--id", help="The event id (default: a new UUID).")
    ] = None,
    time: Annotated[
        str | None, typer.Option(help="Business time, RFC 3339 (default: now).")
    ] = None,
    bootstrap: Bootstrap = None,
) -> None:
    """Publish one event, validated against the catalogue, to its topic."""
    if event_type not in CATALOGUE:
        raise typer.BadParameter(f"not a catalogue type; one of: {', '.join(CATALOGUE)}")
    try:
        fields = json.loads(data, parse_float=Decimal)
        validated = data_model_for(event_type).model_validate(fields)
        envelope = CloudEvent(
            id=event_id or str(uuid.uuid4()),
            source=source,
            type=event_type,
            time=time or datetime.now(UTC),  # type: ignore[arg-type]
            subject=getattr(validated, "customer_id", ""),
            data=validated.model_dump(mode="json", exclude_unset=True),
        )
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--data is not JSON: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['msg']}" for e in exc.errors()
        )
        raise typer.BadParameter(problems) from exc
    value, headers = encode_event(envelope)
    address = broker_address(bootstrap)
    try:
        offset = asyncio.run(_produce(address, event_type, envelope.subject, value, headers))
    except Exception as exc:  # the broker's errors, whatever their class
        typer.echo(f"could not publish to {address}: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{event_type} {envelope.id} -> {event_type} (offset {offset})")


async def _produce(
    bootstrap: str, topic: str, key: str, value: bytes, headers: list[tuple[str, bytes]]
) -> int:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", request_timeout_ms=10_000
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()
    return int(sent.offset)
