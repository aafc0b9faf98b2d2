"""CloudEvents 1.0 envelope: structured mode on the wire, binary mode accepted on the way in."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from shared.events.catalogue import data_model_for

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
_BINARY_PREFIX = "ce_"

DataT = TypeVar("DataT", bound=BaseModel)


class EventDecodeError(Exception):
    """A message that can never be handled: bad JSON, a schema violation or an unknown type."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class CloudEvent(BaseModel):
    """The envelope. ``id`` with ``source`` is the deduplication key; ``time`` is business time."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: AwareDatetime
    subject: str = Field(min_length=1)
    datacontenttype: str | None = "application/json"
    data: dict[str, Any]


class TypedEvent(BaseModel, Generic[DataT]):
    """An envelope whose ``data`` has been validated against the catalogue model of its type."""

    envelope: CloudEvent
    data: DataT

    @property
    def type(self) -> str:
        return self.envelope.type

    @property
    def time(self) -> datetime:
        return self.envelope.time

    @property
    def subject(self) -> str:
        return self.envelope.subject


def new_event(
    event_type: str, *, source: str, time: datetime, subject: str, data: BaseModel
) -> CloudEvent:
    """A well-formed envelope for an outgoing event, its ``data`` checked against the catalogue."""
    model = data_model_for(event_type)
    if not isinstance(data, model):
        raise TypeError(f"{event_type} carries {model.__name__}, not {type(data).__name__}")
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=source,
        type=event_type,
        time=time,
        subject=subject,
        # Nulls stay: a nullable field (segment.changed's first old_segment) is still required.
        data=data.model_dump(mode="json"),
    )


_TIME = TypeAdapter(AwareDatetime)

# Decimal keeps money exact: 1299.10 must never pass through a float. One decoder for all
# messages (``json.loads`` with an option builds a new one per call).
_DECODER = json.JSONDecoder(parse_float=Decimal)


@functools.cache
def _typed_event(model: type[BaseModel]) -> type[TypedEvent[Any]]:
    """``TypedEvent[model]``, looked up once per event type, not once per message."""
    return TypedEvent[model]  # type: ignore[valid-type]


def typed(envelope: CloudEvent, data: BaseModel) -> TypedEvent[Any]:
    """An envelope whose ``data`` has been validated as ``data``."""
    return _typed_event(type(data))(envelope=envelope, data=data)


def encode_new_event(
    event_type: str, *, source: str, time: datetime, subject: str, data: BaseModel
) -> tuple[str, bytes]:
    """The id and structured-mode value of a new event: the bytes ``encode_event(new_event(...))``
    gives, without building the envelope model (the outbox writes one per event it publishes,
    on the hot path of every batch)."""
    model = data_model_for(event_type)
    if not isinstance(data, model):
        raise TypeError(f"{event_type} carries {model.__name__}, not {type(data).__name__}")
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError("an event's time must be timezone-aware")
    event_id = str(uuid.uuid4())
    head = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event_type,
        "time": _TIME.dump_python(time, mode="json"),
        "subject": subject,
        "datacontenttype": "application/json",
    }
    encoded = json.dumps(head, separators=(",", ":"))
    return event_id, f'{encoded[:-1]},"data":{data.model_dump_json()}}}'.encode()


def encode_event(event: CloudEvent) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Structured-mode value and headers for the broker."""
    envelope = {k: v for k, v in event.model_dump(mode="json").items() if v is not None}
    value = json.dumps(envelope, separators=(",", ":")).encode()
    return value, [("content-type", STRUCTURED_CONTENT_TYPE.encode())]


def decode_message(
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]] | None,
    models: Mapping[str, type[BaseModel]] | None = None,
) -> TypedEvent[Any]:
    """Decode a broker message into a typed event, or raise EventDecodeError saying why.
    ``models``: the data model a consumer reads a type with, where it is not the catalogue's
    (``catalogue.reading``)."""
    header_map = {k.lower(): (v or b"").decode("utf-8", "replace") for k, v in headers or ()}
    try:
        if _BINARY_PREFIX + "specversion" in header_map:
            raw = _from_binary(value, header_map)
        else:
            raw = _from_structured(value)
        envelope = CloudEvent.model_validate(raw)
    except EventDecodeError:
        raise
    except ValidationError as exc:
        raise EventDecodeError("invalid_envelope", _summarise(exc)) from exc
    try:
        model: type[BaseModel] = data_model_for(envelope.type)
        model = models.get(envelope.type, model) if models else model
    except KeyError as exc:
        raise EventDecodeError("unknown_type", f"no event type {envelope.type!r}") from exc
    try:
        data = model.model_validate(envelope.data)
    except ValidationError as exc:
        raise EventDecodeError("invalid_data", _summarise(exc)) from exc
    if getattr(data, "customer_id", envelope.subject) != envelope.subject:
        raise EventDecodeError("invalid_data", "subject and data.customer_id differ")
    return _typed_event(model)(envelope=envelope, data=data)


def _from_structured(value: bytes | None) -> dict[str, Any]:
    if not value:
        raise EventDecodeError("bad_json", "empty message")
    try:
        # JSON between systems is UTF-8 (RFC 8259); a byte order mark is tolerated.
        raw = _DECODER.decode(value.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventDecodeError("bad_json", str(exc)) from exc
    if not isinstance(raw, dict):
        raise EventDecodeError("bad_json", "the message is not a JSON object")
    return raw


def _from_binary(value: bytes | None, headers: dict[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {
        name[len(_BINARY_PREFIX) :]: text
        for name, text in headers.items()
        if name.startswith(_BINARY_PREFIX)
    }
    raw["data"] = _from_structured(value)
    if "content-type" in headers:
        raw.setdefault("datacontenttype", headers["content-type"])
    return raw


def _summarise(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        field = ".".join(str(p) for p in error["loc"]) or "(root)"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)
