"""Configuration from the environment (prefix ``LOOPCRM_``), one settings class per service."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiKeyConfig(BaseModel):
    """One API key: either the plain key (hashed on load) or its SHA-256 hex digest."""

    key: str | None = None
    key_sha256: str | None = None
    scopes: list[str]
    name: str = "unnamed"


class ServiceSettings(BaseSettings):
    """Settings every service shares. Subclasses set ``service_name`` and ``default_port``."""

    model_config = SettingsConfigDict(env_prefix="LOOPCRM_", extra="ignore")

    service_name: ClassVar[str] = "service"
    default_port: ClassVar[int] = 8000

    host: str = "127.0.0.1"
    port: int | None = None
    var_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; defaults to SQLite under var_dir.",
    )
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_idempotence: bool = Field(
        default=True,
        description="Idempotent producer; off for brokers that reject InitProducerId.",
    )
    kafka_max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest record a producer sends: the broker's message.max.bytes (Kafka's "
        "default, 1 MiB). A dead letter over it is sent as a reference to the original.",
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=10,
        description="Fetch wait while records stream in (doubling to the idle wait when not).",
    )
    kafka_idle_fetch_max_wait_ms: int = Field(
        default=6000, description="Fetch wait once a consumer is idle: a quiet stack polls rarely."
    )
    kafka_urgent_fetch_max_wait_ms: int = Field(
        default=50,
        description="Longest fetch wait of the urgent lane (latency-critical topics).",
    )
    kafka_session_timeout_ms: int = Field(
        default=10_000,
        description="Consumer group session timeout; a first join waits about half of it.",
    )
    kafka_heartbeat_interval_ms: int = 3_000
    keyed_read_pool_size: int = Field(
        default=4,
        ge=0,
        description="PostgreSQL: connections of the driver's own pool for the hottest reads by "
        "key (the customer 360); 0 reads them through SQLAlchemy's pool like every other read.",
    )
    consumer_batch_size: int = 8000
    consumer_transaction_size: int = Field(
        default=4000,
        description="Events of one partition applied per database transaction (1 = each alone).",
    )
    consumer_concurrency: int = Field(
        default=2,
        ge=1,
        description="Partitions of a fetched batch applied at once, each in its own "
        "transactions (PostgreSQL; SQLite has one writer, so it applies them one at a time).",
    )
    consumer_gather_ms: int = Field(
        default=500,
        ge=0,
        description="While records stream in a few at a time, a consumer takes them at most "
        "this often (not on the urgent lane): fewer, larger runs and fetches.",
    )
    consumer_max_attempts: int = 5
    consumer_retry_backoff_ms: int = 100
    consumer_retry_backoff_max_ms: int = 5_000
    outbox_poll_interval_ms: int = Field(
        default=1000,
        description="Relay poll when idle; a commit that wrote outbox rows wakes it at once.",
    )
    outbox_batch_size: int = 200
    outbox_relay_linger_ms: int = Field(
        default=100,
        ge=0,
        description="While a service publishes steadily (100 events or more over the last "
        "second), the relay gathers them this long between sends: a few large batches a "
        "second, not one per commit. A few events (a complaint's) leave at once.",
    )
    api_keys: list[ApiKeyConfig] = Field(default_factory=list)
    dev_api_key: str | None = None
    log_level: str = "INFO"
    log_json: bool = True
    consumers_enabled: bool = True
    tasks_enabled: bool = True

    @field_validator("dev_api_key")
    @classmethod
    def _refuse_placeholder(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() in {"", "changeme", "changethis"}:
            raise ValueError("dev_api_key must not be empty or a placeholder")
        return value

    @property
    def http_port(self) -> int:
        return self.port or self.default_port

    @property
    def consumer_group(self) -> str:
        return f"loopcrm.{self.service_name}"

    @property
    def event_source(self) -> str:
        return f"loopcrm/{self.service_name}"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / f'{self.service_name}.db'}"
