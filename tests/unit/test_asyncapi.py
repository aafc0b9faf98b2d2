"""The committed AsyncAPI document is the one the catalogue generates, and it is complete."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.app import ServiceSpec
from shared.asyncapi import STOREFRONT, build_asyncapi, consumers, producers
from shared.events.catalogue import CATALOGUE
from shared.registry import SERVICE_NAMES

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


# DESIGN.md §1: what each service may consume and publish (some of it not built yet).
DESIGN_CONSUMES: dict[str, set[str]] = {
    "profile": {
        "customer.registered",
        "customer.updated",
        "order.placed",
        "order.refunded",
        "product.viewed",
        "review.posted",
        "ticket.opened",
        "complaint.opened",
        "ticket.resolved",
    },
    "segmentation": {
        "order.placed",
        "order.refunded",
        "profile.tagged",
        "complaint.opened",
        "customer.erased",
    },
    "engagement": {
        "complaint.opened",
        "segment.changed",
        "ticket.resolved",
        "profile.tagged",
        "customer.registered",
        "customer.updated",
        "customer.erased",
        "order.placed",
        "product.viewed",
    },
    "ticketing": {"tier.changed", "order.refunded", "customer.erased"},
    "loyalty": {
        "customer.registered",
        "order.placed",
        "order.refunded",
        "review.posted",
        "customer.erased",
    },
}
DESIGN_PUBLISHES: dict[str, set[str]] = {
    "profile": {"profile.tagged", "customer.erased"},
    "segmentation": {"segment.changed", "churn_risk.detected"},
    "engagement": {"silence.started", "message.sent", "message.suppressed", "customer.updated"},
    "ticketing": {
        "ticket.opened",
        "complaint.opened",
        "ticket.prioritized",
        "ticket.resolved",
        "sla.breached",
    },
    "loyalty": {
        "points.earned",
        "points.redeemed",
        "points.expired",
        "points.held",
        "tier.changed",
    },
}
# Beyond the table: ticketing consumes its own complaint.opened (a complaint from any source
# takes one path), profile and engagement keep the latest tier and silence for the 360, and
# loyalty follows customer.updated for birthdays.
EXTRA_CONSUMES: dict[str, set[str]] = {
    "ticketing": {"complaint.opened"},
    "profile": {"tier.changed", "segment.changed", "silence.started"},
    "loyalty": {"customer.updated"},
}


def test_every_type_has_a_producer_and_only_known_parties_appear() -> None:
    published_by, consumed_by = producers(), consumers()
    assert set(published_by) == set(consumed_by) == set(CATALOGUE)
    for event_type in CATALOGUE:
        assert published_by[event_type], event_type
        assert set(published_by[event_type]) <= {*SERVICE_NAMES, STOREFRONT}
        assert set(consumed_by[event_type]) <= set(SERVICE_NAMES)


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_a_service_consumes_and_publishes_what_the_design_gives_it(service: str) -> None:
    declared = importlib.import_module(f"services.{service}.handlers").subscriptions
    allowed = DESIGN_CONSUMES[service] | EXTRA_CONSUMES.get(service, set())
    assert set(declared.consumes) <= allowed, sorted(set(declared.consumes) - allowed)
    assert set(declared.publishes) <= DESIGN_PUBLISHES[service]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_the_app_wires_the_declared_subscriptions(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_module = importlib.import_module(f"services.{service}.app")
    specs: list[ServiceSpec] = []
    real = app_module.create_service_app

    def capture(spec: ServiceSpec) -> Any:
        specs.append(spec)
        return real(spec)

    # The composition root builds the app without starting it: no broker, no database.
    monkeypatch.setattr(app_module, "create_service_app", capture)
    app_module.create_app()
    (spec,) = specs
    declared = importlib.import_module(f"services.{service}.handlers").subscriptions
    assert spec.subscriptions is declared


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []
