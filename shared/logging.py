"""Structured JSON logs; personal fields are redacted before anything is written."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

PERSONAL_FIELDS = frozenset(
    {"name", "email", "phone", "birthday", "address", "customer_name", "authorization"}
)
REDACTED = "[redacted]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# 11 to 15 digits, optionally spaced or dashed: mobile and landline numbers, never a date.
_PHONE = re.compile(r"(?<![\w.:-])\+?(?:\d[ -]?){10,14}\d(?![\w:-])")
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def redact(value: Any) -> Any:
    """Personal fields by name anywhere in nested data, and e-mail or phone look-alikes in text."""
    if isinstance(value, dict):
        return {
            k: REDACTED if str(k).lower() in PERSONAL_FIELDS else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, value))
    return value


def _is_personal(key: object) -> bool:
    return str(key).lower() in PERSONAL_FIELDS


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(redact(entry), default=str)


class RepeatFilter(logging.Filter):
    """Lets one copy of a repeated message through per interval: a broker outage makes the
    Kafka client log the same connection error every 100 ms."""

    def __init__(self, interval_s: float = 30.0) -> None:
        super().__init__()
        self._interval = interval_s
        self._last_seen: dict[tuple[str, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        last = self._last_seen.get(key)
        if last is not None and record.created - last < self._interval:
            return False
        self._last_seen[key] = record.created
        return True


def configure_logging(service: str, level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if as_json:
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    kafka_client = logging.getLogger("aiokafka")
    kafka_client.setLevel("WARNING")
    if not any(isinstance(f, RepeatFilter) for f in kafka_client.filters):
        kafka_client.addFilter(RepeatFilter())
    logging.getLogger("uvicorn.access").disabled = True
