"""``loopcrm demo``: fill a running stack with a storefront's life (``cli/storefront.py``), then
say what the loop made of it: customers by segment and tier, who is silenced, tickets by
priority, points outstanding."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from shared.cli.addresses import Bootstrap, Host, Urls, broker_address, service_addresses
from shared.cli.output import console
from shared.cli.status import look_at
from shared.cli.storefront import Story, simulate

_QUIET_S = 8.0
"""Longer than a consumer at rest waits on a fetch (``kafka_idle_fetch_max_wait_ms``, 6 s)."""

Key = Annotated[
    str | None,
    typer.Option(
        envvar=["LOOPCRM_API_KEY", "LOOPCRM_DEV_API_KEY"],
        help="An API key with the write and read scopes (default: LOOPCRM_API_KEY).",
    ),
]


def demo(
    customers: Annotated[int, typer.Option(min=1, max=100_000, help="How many customers.")] = 200,
    days: Annotated[int, typer.Option(min=1, max=730, help="Business days simulated.")] = 90,
    rate: Annotated[float, typer.Option(min=1, help="Events published per second.")] = 1000.0,
    seed: Annotated[int, typer.Option(help="The same seed tells the same story.")] = 1,
    key: Key = None,
    bootstrap: Bootstrap = None,
    host: Host = "127.0.0.1",
    url: Urls = None,
) -> None:
    """Simulate a storefront over DAYS of business time ending now: registrations, browsing,
    orders, refunds, reviews and complaints, published at RATE; then a summary."""
    if not key:
        raise typer.BadParameter("an API key is needed: --key or LOOPCRM_API_KEY")
    addresses = service_addresses(host, url)
    story = simulate(customers, days, datetime.now(UTC), seed)
    address = broker_address(bootstrap)
    try:
        asyncio.run(_publish(address, story, rate))
    except Exception as exc:  # the broker's errors, whatever their class
        typer.echo(f"could not publish to {address}: {exc}", err=True)
        raise typer.Exit(1) from exc
    opened = _open_complaints(addresses["ticketing"], key, story)
    typer.echo(
        f"{len(story.events):,} events for {customers:,} customers over {days} days, "
        f"{opened} complaints"
    )
    _wait_until_caught_up(addresses, deadline_s=120)
    _summarise(addresses, key, story)


async def _publish(bootstrap: str, story: Story, rate: float) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", linger_ms=5
    )
    await producer.start()
    headers = [("content-type", b"application/cloudevents+json")]
    started = time.monotonic()
    try:
        with Progress(console=console()) as progress:
            task = progress.add_task("publishing", total=len(story.events))
            pending = []
            for n, event in enumerate(story.events, start=1):
                pending.append(
                    await producer.send(
                        event["type"],
                        json.dumps(event).encode(),
                        key=event["subject"].encode(),
                        headers=headers,
                    )
                )
                if n % 200 == 0 or n == len(story.events):
                    await asyncio.gather(*pending)
                    pending.clear()
                    progress.update(task, completed=n)
                    ahead = n / rate - (time.monotonic() - started)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
    finally:
        await producer.stop()


def _open_complaints(ticketing: str, key: str, story: Story) -> int:
    opened = 0
    for complaint in story.complaints:
        body = {
            "customer_id": complaint.customer_id,
            "kind": "complaint",
            "category": complaint.category,
            "subject": complaint.subject,
            "opened_at": complaint.opened_at.isoformat(),
        }
        status, _ = _call("POST", f"{ticketing}/v1/tickets", key, body)
        opened += status == 201
    return opened


def _wait_until_caught_up(addresses: dict[str, str], deadline_s: float) -> None:
    """Until every service has handled what was published and what the others published in
    reply: no lag, no outbox backlog, and no event consumed anywhere for longer than an idle
    consumer waits on a fetch (its lag reading only moves when a fetch answers)."""
    deadline = time.monotonic() + deadline_s
    last_total, quiet_since = -1.0, time.monotonic()
    while time.monotonic() < deadline:
        seen = [look_at(name, address, 2.0) for name, address in addresses.items()]
        total = sum(s.consumed or 0 for s in seen)
        if total != last_total:
            last_total, quiet_since = total, time.monotonic()
        settled = all(s.lag == 0 and s.outbox_backlog == 0 for s in seen)
        if settled and time.monotonic() - quiet_since >= _QUIET_S:
            return
        time.sleep(0.5)
    typer.echo("the services are still catching up; the summary is as of now", err=True)


def _summarise(addresses: dict[str, str], key: str, story: Story) -> None:
    table = Table("after the demo", "")
    _, segments = _call("GET", f"{addresses['segmentation']}/v1/segments", key)
    if isinstance(segments, list):
        counts = ", ".join(f"{s['name']} {s['member_count']}" for s in segments)
        table.add_row("customers by segment", counts)
    tiers: Counter[str] = Counter()
    outstanding = 0
    for customer_id in story.customer_ids:
        status, points = _call(
            "GET", f"{addresses['loyalty']}/v1/customers/{customer_id}/points", key
        )
        if status == 200:
            tiers[points["tier"]] += 1
            outstanding += points["balance"]
    table.add_row("customers by tier", ", ".join(f"{t} {n}" for t, n in tiers.most_common()))
    silenced = 0
    for customer_id in {c.customer_id for c in story.complaints}:
        status, silence = _call(
            "GET", f"{addresses['engagement']}/v1/customers/{customer_id}/silence", key
        )
        silenced += status == 200 and bool(silence.get("silenced"))
    table.add_row("silenced customers", str(silenced))
    priorities: Counter[str] = Counter()
    for customer_id in {c.customer_id for c in story.complaints}:
        status, page = _call(
            "GET", f"{addresses['ticketing']}/v1/tickets?customer_id={customer_id}", key
        )
        if status == 200:
            priorities.update(ticket["priority"] for ticket in page["items"])
    table.add_row(
        "tickets by priority", ", ".join(f"{p} {n}" for p, n in sorted(priorities.items()))
    )
    table.add_row("points outstanding", f"{outstanding:,}")
    console().print(table)


def _call(method: str, url: str, key: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, None
    except OSError:
        return 0, None
