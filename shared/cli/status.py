"""``loopcrm status``: each service's readiness, consumer lag and outbox backlog, read from its
own ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from prometheus_client.parser import text_string_to_metric_families
from rich.table import Table

from shared.cli.addresses import Host, Urls, service_addresses
from shared.cli.output import console


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    url: str
    readiness: str
    """ready, degraded (with the reason), not ready (with the failing checks) or unreachable."""
    lag: float | None
    outbox_backlog: float | None
    consumed: float | None = None
    """Events taken off the broker since the process started, whatever their outcome."""

    @property
    def ready(self) -> bool:
        return self.readiness == "ready" or self.readiness.startswith("degraded")


def status(
    host: Host = "127.0.0.1",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 2.0,
    url: Urls = None,
) -> None:
    """Readiness, consumer lag and outbox backlog of the five services; exit 1 when one is not
    ready."""
    addresses = service_addresses(host, url)
    found = [look_at(name, address, timeout) for name, address in addresses.items()]
    table = Table("service", "url", "ready", "consumer lag", "outbox backlog")
    for service in found:
        table.add_row(
            service.name,
            service.url,
            service.readiness,
            _count(service.lag),
            _count(service.outbox_backlog),
        )
    console().print(table)
    if not all(service.ready for service in found):
        raise typer.Exit(1)


def look_at(name: str, url: str, timeout: float) -> ServiceStatus:
    try:
        readiness = _readiness(url, timeout)
    except OSError:
        return ServiceStatus(name, url, "unreachable", None, None)
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=timeout) as answer:
            exposition = answer.read().decode()
    except OSError:
        return ServiceStatus(name, url, readiness, None, None)
    totals = _sums(
        exposition, {"loopcrm_consumer_lag", "loopcrm_outbox_backlog", "loopcrm_events_consumed"}
    )
    return ServiceStatus(
        name,
        url,
        readiness,
        totals.get("loopcrm_consumer_lag"),
        totals.get("loopcrm_outbox_backlog"),
        totals.get("loopcrm_events_consumed"),
    )


def _readiness(url: str, timeout: float) -> str:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=timeout) as answer:
            body = json.load(answer)
    except urllib.error.HTTPError as refused:
        failing = _failing(json.load(refused))
        return f"not ready ({failing})" if failing else "not ready"
    if body.get("status") == "degraded":
        return f"degraded ({_failing(body)})"
    return str(body.get("status", "ready"))


def _failing(answer: dict[str, Any]) -> str:
    """The checks of a /readyz answer that are not "ok", with their state."""
    checks = answer.get("checks", {})
    return "; ".join(f"{name}: {state}" for name, state in checks.items() if state != "ok")


def _sums(exposition: str, names: set[str]) -> dict[str, float]:
    """Each metric of ``names`` summed over its series."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name in names:
            totals[family.name] = sum(
                sample.value for sample in family.samples if not sample.name.endswith("_created")
            )
    return totals


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"
