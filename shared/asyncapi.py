"""The AsyncAPI 3.0 document of every event, built from the catalogue's pydantic models.

``python -m shared.asyncapi > docs/asyncapi.yaml`` regenerates the committed document; a unit
test fails when the two differ, so the contract and the code cannot drift apart.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.events.catalogue import CATALOGUE
from shared.events.envelope import STRUCTURED_CONTENT_TYPE, CloudEvent
from shared.registry import SERVICES
from shared.subscriptions import Subscriptions

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
STOREFRONT = "storefront"


def _declared_subscriptions() -> dict[str, Subscriptions[Any]]:
    """Each service's declared subscriptions, from the module the registry names."""
    return {
        entry.name: importlib.import_module(entry.handlers_module).subscriptions
        for entry in SERVICES
    }


def producers() -> dict[str, tuple[str, ...]]:
    """Who publishes each type: the services that declare it, else the storefront backends."""
    declared = _declared_subscriptions()
    return {
        event_type: tuple(name for name, subs in declared.items() if event_type in subs.publishes)
        or (STOREFRONT,)
        for event_type in CATALOGUE
    }


def consumers() -> dict[str, tuple[str, ...]]:
    """Which services consume each type, as their handlers declare."""
    declared = _declared_subscriptions()
    return {
        event_type: tuple(name for name, subs in declared.items() if event_type in subs.consumes)
        for event_type in CATALOGUE
    }


def build_asyncapi() -> dict[str, Any]:
    """The whole document as plain JSON-compatible data, in a stable order."""
    schemas = _schemas()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    published_by, consumed_by = producers(), consumers()
    for event_type, model in CATALOGUE.items():
        by, to = published_by[event_type], consumed_by[event_type]
        channels[event_type] = _channel(event_type, by, to)
        messages[event_type] = _message(event_type, model.__name__, by, to)
        for service in published_by[event_type]:
            operations[f"{service}.send.{event_type}"] = _operation("send", service, event_type)
        for service in consumed_by[event_type]:
            operations[f"{service}.receive.{event_type}"] = _operation(
                "receive", service, event_type
            )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "loopcrm events",
            "version": "1.0.0",
            "description": (
                "Every event the loopcrm services and the storefront backends exchange. One "
                "Kafka topic per event type, named exactly as the type; CloudEvents 1.0 in "
                "structured mode; Kafka key = customer id, so one customer's events stay "
                "ordered within a topic. A message that cannot be handled goes to "
                "`<topic>.dlq`. Within a type, fields are only ever added; a breaking change "
                "is a new type. Generated from shared/events/catalogue.py by "
                "`python -m shared.asyncapi`."
            ),
        },
        "defaultContentType": STRUCTURED_CONTENT_TYPE,
        "servers": {
            "embedded": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The embedded broker `loopcrm up` starts.",
            },
            "compose": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "Apache Kafka (KRaft) in docker-compose.yml.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _schemas() -> dict[str, Any]:
    models: list[type[BaseModel]] = [CloudEvent, *CATALOGUE.values()]
    _, top = models_json_schema(
        [(model, "validation") for model in models],
        ref_template="#/components/schemas/{model}",
    )
    definitions: dict[str, Any] = top["$defs"]
    return dict(sorted(definitions.items()))


def _channel(event_type: str, by: tuple[str, ...], to: tuple[str, ...]) -> dict[str, Any]:
    return {
        "address": event_type,
        "title": event_type,
        "description": (
            f"Topic `{event_type}`. Dead letters go to `{event_type}.dlq` with the error in "
            "headers."
        ),
        "messages": {event_type: {"$ref": f"#/components/messages/{event_type}"}},
        "bindings": {"kafka": {"topic": event_type, "bindingVersion": KAFKA_BINDING_VERSION}},
        "x-producers": list(by),
        "x-consumers": list(to),
        "x-dead-letter-topic": f"{event_type}.dlq",
    }


def _message(
    event_type: str, schema_name: str, by: tuple[str, ...], to: tuple[str, ...]
) -> dict[str, Any]:
    producers = ", ".join(by)
    consumers = ", ".join(to) or "no loopcrm service yet"
    return {
        "name": event_type,
        "title": schema_name,
        "summary": f"Published by {producers}; consumed by {consumers}.",
        "contentType": STRUCTURED_CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {
                "content-type": {"type": "string", "const": STRUCTURED_CONTENT_TYPE},
            },
        },
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEvent"},
                {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "type": {"type": "string", "const": event_type},
                        "subject": {
                            "type": "string",
                            "description": "The customer id; equals data.customer_id.",
                        },
                        "data": {"$ref": f"#/components/schemas/{schema_name}"},
                    },
                },
            ]
        },
        "correlationId": {
            "description": "With `source`, the deduplication key of the event.",
            "location": "$message.payload#/id",
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The customer id (= subject)."},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(action: str, service: str, event_type: str) -> dict[str, Any]:
    verb = "publishes" if action == "send" else "consumes"
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{event_type}"},
        "title": f"{service} {verb} {event_type}",
        "tags": [{"name": service}],
        "messages": [{"$ref": f"#/channels/{event_type}/messages/{event_type}"}],
    }


def render(document: dict[str, Any], fmt: str = "yaml") -> str:
    """YAML when PyYAML is installed (a dev dependency), else JSON, which is YAML too."""
    if fmt == "yaml":
        try:
            import yaml
        except ImportError:
            fmt = "json"
        else:
            return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m shared.asyncapi", description="Print the AsyncAPI document."
    )
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml")
    args = parser.parse_args(argv)
    sys.stdout.write(render(build_asyncapi(), args.format))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
