"""CloudEvents over HTTP (the CloudEvents HTTP protocol binding 1.0): the events of a request, each
checked against the catalogue as a consumer would check it. Pure: bytes and headers in, values
out.

- structured mode: ``Content-Type: application/cloudevents+json``, the body one envelope;
- batched mode: ``Content-Type: application/cloudevents-batch+json``, the body a JSON array of
  envelopes;
- binary mode: the attributes as ``ce-*`` headers, the body the bare ``data``.

A plain ``application/json`` body is read as structured (an object) or batched (an array).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.events.catalogue import INBOUND_TYPES, data_model_for
from shared.events.envelope import STRUCTURED_CONTENT_TYPE, CloudEvent, TypedEvent, typed

BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
_BINARY_HEADER = "ce-"
_DECODER = json.JSONDecoder(parse_float=Decimal)


class UnreadableRequest(Exception):
    """A request whose body cannot hold events at all (not JSON, not the media type)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Rejection:
    """Why one event of a request was not taken: ``field`` is the path within the envelope."""

    reason: str
    field: str
    message: str


@dataclass(frozen=True)
class Received:
    """One event of a request, in request order: the event, or why it was rejected (with what
    could be read of its id and type, so the sender can tell which one it was)."""

    index: int
    id: str | None
    type: str | None
    event: TypedEvent[Any] | None = None
    rejection: Rejection | None = None


def events_of_request(body: bytes, headers: Mapping[str, str]) -> tuple[bool, list[Any]]:
    """The request's envelopes as decoded JSON (not yet checked), and whether it was a batch;
    ``UnreadableRequest`` when the body cannot be read."""
    lowered = {name.lower(): value for name, value in headers.items()}
    media_type = lowered.get("content-type", "").split(";")[0].strip().lower()
    if f"{_BINARY_HEADER}specversion" in lowered:
        attributes: dict[str, Any] = {
            name[len(_BINARY_HEADER) :]: value
            for name, value in lowered.items()
            if name.startswith(_BINARY_HEADER)
        }
        attributes["data"] = _json(body)
        attributes.setdefault("datacontenttype", media_type or "application/json")
        return False, [attributes]
    if media_type not in (STRUCTURED_CONTENT_TYPE, BATCH_CONTENT_TYPE, "application/json"):
        raise UnreadableRequest(
            415,
            f"Send {STRUCTURED_CONTENT_TYPE} (one event), {BATCH_CONTENT_TYPE} (a JSON array "
            "of events) or binary mode (ce-* headers and the data as application/json).",
        )
    decoded = _json(body)
    if media_type == BATCH_CONTENT_TYPE and not isinstance(decoded, list):
        raise UnreadableRequest(422, f"{BATCH_CONTENT_TYPE} is a JSON array of events")
    if isinstance(decoded, list):
        return True, decoded
    return False, [decoded]


def check(index: int, raw: Any, inbound: Sequence[str] = INBOUND_TYPES) -> Received:
    """One decoded envelope checked as a consumer checks it, and against the types a
    storefront may send (``inbound``): a service's own events cannot be sent from outside."""
    if not isinstance(raw, dict):
        return Received(index, None, None, rejection=Rejection("bad_json", "", "not an object"))
    event_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    event_type = raw.get("type") if isinstance(raw.get("type"), str) else None
    try:
        envelope = CloudEvent.model_validate(raw)
    except ValidationError as exc:
        return Received(index, event_id, event_type, rejection=_rejected("invalid_envelope", exc))
    if envelope.type not in inbound:
        message = f"{envelope.type!r} is not an event a storefront sends ({', '.join(inbound)})"
        return Received(
            index, event_id, event_type, rejection=Rejection("unknown_type", "type", message)
        )
    model: type[BaseModel] = data_model_for(envelope.type)
    try:
        data = model.model_validate(envelope.data)
    except ValidationError as exc:
        rejection = _rejected("invalid_data", exc, prefix="data")
        return Received(index, event_id, event_type, rejection=rejection)
    if getattr(data, "customer_id", envelope.subject) != envelope.subject:
        rejection = Rejection("invalid_data", "subject", "subject and data.customer_id differ")
        return Received(index, event_id, event_type, rejection=rejection)
    return Received(index, event_id, event_type, event=typed(envelope, data))


def _json(body: bytes) -> Any:
    try:
        return _DECODER.decode(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableRequest(422, f"the body is not valid JSON: {exc}") from exc


def _rejected(reason: str, exc: ValidationError, *, prefix: str = "") -> Rejection:
    first = exc.errors()[0]
    path = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    return Rejection(reason, path, first["msg"])
