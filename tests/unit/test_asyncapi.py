"""The committed AsyncAPI document is the one the catalogue generates, and it is complete."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.app import ServiceSpec
from shared.asyncapi import CONSUMERS, PRODUCERS, SERVICES, STOREFRONT, build_asyncapi
from shared.events.catalogue import CATALOGUE

DOC = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"
REGENERATE = "run `python -m shared.asyncapi > docs/asyncapi.yaml`"


def _generated() -> dict[str, Any]:
    # Through JSON, as the document is written: what the file holds is plain data.
    return json.loads(json.dumps(build_asyncapi()))


def test_the_committed_document_equals_a_fresh_one() -> None:
    committed = yaml.safe_load(DOC.read_text(encoding="utf-8"))
    assert committed == _generated(), f"docs/asyncapi.yaml is stale: {REGENERATE}"


def test_every_catalogue_type_has_a_channel_on_its_topic_and_a_message() -> None:
    document = _generated()
    for event_type in CATALOGUE:
        channel = document["channels"][event_type]
        assert channel["address"] == event_type
        assert channel["bindings"]["kafka"]["topic"] == event_type
        assert event_type in document["components"]["messages"]
    assert set(document["channels"]) == set(CATALOGUE)


def test_each_message_carries_the_envelope_and_the_models_data_schema() -> None:
    document = _generated()
    schemas = document["components"]["schemas"]
    for event_type, model in CATALOGUE.items():
        message = document["components"]["messages"][event_type]
        envelope, specific = message["payload"]["allOf"]
        assert envelope == {"$ref": "#/components/schemas/CloudEvent"}
        assert specific["properties"]["type"]["const"] == event_type
        assert specific["properties"]["data"] == {"$ref": f"#/components/schemas/{model.__name__}"}
        assert schemas[model.__name__]["title"] == model.__name__
        assert message["bindings"]["kafka"]["key"]["type"] == "string"


def test_every_reference_resolves() -> None:
    document = _generated()
    for ref in _refs(document):
        assert ref.startswith("#/"), ref
        node: Any = document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]


def test_every_type_has_a_producer_and_only_known_parties_appear() -> None:
    assert set(PRODUCERS) == set(CATALOGUE)
    assert set(CONSUMERS) == set(CATALOGUE)
    for event_type in CATALOGUE:
        assert PRODUCERS[event_type], event_type
        assert set(PRODUCERS[event_type]) <= {*SERVICES, STOREFRONT}
        assert set(CONSUMERS[event_type]) <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_handles_only_events_the_document_says_it_consumes(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_module = _service_app_module(service)
    if app_module is None:
        pytest.skip(f"services/{service}/app.py does not exist yet")
    specs: list[ServiceSpec] = []
    real = app_module.create_service_app

    def capture(spec: ServiceSpec) -> Any:
        specs.append(spec)
        return real(spec)

    # The composition root builds the app without starting it: no broker, no database.
    monkeypatch.setattr(app_module, "create_service_app", capture)
    app_module.create_app()
    (spec,) = specs
    handled = set(spec.handlers)
    documented = {t for t, consumers in CONSUMERS.items() if service in consumers}
    assert handled <= documented, (
        f"{service} handles {sorted(handled - documented)} that shared/asyncapi.py does not "
        f"list; update CONSUMERS and {REGENERATE}"
    )


def _service_app_module(service: str) -> Any:
    name = f"services.{service}.app"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []
