"""A service's /metrics, read as the Prometheus text exposition it prints."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tests.bench.httpclient import HttpClient

# Counter `loopcrm_events_consumed` is exposed as `loopcrm_events_consumed_total`.
CONSUMED = "loopcrm_events_consumed_total"
LAG = "loopcrm_consumer_lag"
OUTBOX_BACKLOG = "loopcrm_outbox_backlog"
FINAL_OUTCOMES = ("handled", "duplicate", "dead_lettered")

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: Mapping[str, str]
    value: float


def parse_exposition(text: str) -> list[Sample]:
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            continue
        name, labels, value = match.groups()
        samples.append(Sample(name, dict(_LABEL.findall(labels or "")), float(value)))
    return samples


@dataclass(frozen=True)
class Snapshot:
    samples: list[Sample]

    def total(self, name: str, **labels: str) -> float:
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def consumed(self, topic: str | None = None, outcome: str | None = None) -> float:
        labels = {"topic": topic, "outcome": outcome}
        return self.total(CONSUMED, **{k: v for k, v in labels.items() if v is not None})

    def finished(self, topic: str | None = None) -> float:
        """Events that reached a final outcome (handled, duplicate or dead-lettered)."""
        return sum(self.consumed(topic, outcome) for outcome in FINAL_OUTCOMES)

    def lag(self) -> float:
        return self.total(LAG)

    def lag_series(self) -> int:
        return sum(1 for s in self.samples if s.name == LAG)


async def scrape(client: HttpClient, timeout: float = 5.0) -> Snapshot:
    response = await client.get("/metrics", timeout=timeout)
    if response.status != 200:
        raise RuntimeError(f"/metrics answered {response.status}")
    return Snapshot(parse_exposition(response.body.decode()))
