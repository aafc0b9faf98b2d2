"""Prometheus metrics of one service, on a registry of its own. No label carries a customer id."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# `_created` timestamps double every counter's series and no dashboard or alert reads them.
disable_created_metrics()

CONSUME_OUTCOMES = ("handled", "duplicate", "retried", "dead_lettered")
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "loopcrm_http_requests",
            "HTTP requests handled, by route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "loopcrm_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.events_consumed = Counter(
            "loopcrm_events_consumed",
            "Events taken off the broker, by topic and outcome.",
            ["topic", "outcome"],
            registry=r,
        )
        self.event_handling = Histogram(
            "loopcrm_event_handling_duration_seconds",
            "Time from taking an event off the broker to its durable effect.",
            ["topic"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.runs_redone = Counter(
            "loopcrm_consumer_runs_redone",
            "Runs of events that failed as a set and were redone one event at a time, by topic.",
            ["topic"],
            registry=r,
        )
        self.events_published = Counter(
            "loopcrm_events_published",
            "Events relayed from the outbox to the broker, by topic.",
            ["topic"],
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "loopcrm_outbox_backlog",
            "Events written to the outbox and not yet on the broker.",
            registry=r,
        )
        self.outbox_oldest_age = Gauge(
            "loopcrm_outbox_oldest_age_seconds",
            "Age of the oldest event waiting in the outbox (0 when empty).",
            registry=r,
        )
        self.consumer_lag = Gauge(
            "loopcrm_consumer_lag",
            "Messages on the broker not yet handled by this service, by topic and partition.",
            ["topic", "partition"],
            registry=r,
        )
        self.broker_up = Gauge(
            "loopcrm_broker_connected",
            "1 when the outbox relay's last attempt reached the broker.",
            registry=r,
        )
        self.events_ingested = Counter(
            "loopcrm_events_ingested",
            "Events received over HTTP (POST /v1/events), by type and outcome (accepted, or the "
            "reason they were rejected).",
            ["type", "outcome"],
            registry=r,
        )
        self.task_runs = Counter(
            "loopcrm_task_runs",
            "Periodic task runs, by task and outcome.",
            ["task", "outcome"],
            registry=r,
        )

    def prepare_topics(self, topics: tuple[str, ...] | list[str]) -> None:
        """Zero series up front, so dashboards and rate() see every topic from the start."""
        for topic in topics:
            for outcome in CONSUME_OUTCOMES:
                self.events_consumed.labels(topic=topic, outcome=outcome)
            self.event_handling.labels(topic=topic)

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
