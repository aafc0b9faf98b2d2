"""The event contract: the CloudEvents envelope and the typed catalogue of every event."""

from shared.events.catalogue import CATALOGUE, TOPICS, data_model_for
from shared.events.envelope import (
    CloudEvent,
    EventDecodeError,
    TypedEvent,
    decode_message,
    encode_event,
    new_event,
)

__all__ = [
    "CATALOGUE",
    "TOPICS",
    "CloudEvent",
    "EventDecodeError",
    "TypedEvent",
    "data_model_for",
    "decode_message",
    "encode_event",
    "new_event",
]
