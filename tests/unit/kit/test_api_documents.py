"""What every service's API says about itself holds: a body that is not JSON is the
documented 422 naming the body, and /metrics is declared as the text it is."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from shared.app import readiness_answer
from tests.support.harness import service_harness

SERVICES = ["profile", "segmentation", "engagement", "ticketing", "loyalty"]


@pytest.mark.parametrize("service", SERVICES)
async def test_metrics_are_declared_as_text(tmp_path: Path, service: str) -> None:
    async with service_harness(service, tmp_path) as harness:
        document = (await harness.client.get("/openapi.json")).json()
        declared = document["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
        assert list(declared) == ["text/plain"]
        answer = await harness.client.get("/metrics")
        assert answer.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("body", [b'{"customer_id": ', b"\xff\xfe not UTF-8"])
async def test_a_body_that_is_not_json_is_a_422_about_the_body(tmp_path: Path, body: bytes) -> None:
    async with service_harness("ticketing", tmp_path) as harness:
        answer = await harness.client.post(
            "/v1/tickets", content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 422, answer.text
    [field] = answer.json()["error"]["fields"]
    assert field["field"] == "body"
    assert field["message"].startswith("not valid JSON")


async def test_not_ready_while_the_consumers_have_not_joined_their_group(tmp_path: Path) -> None:
    # The harness runs nothing in the background: its consumer lanes never join.
    async with service_harness("loyalty", tmp_path) as harness:
        runtime = harness.runtime
        assert (await runtime.readiness())["consumer"] == "joining its group"
        for consumer in runtime.consumers:
            consumer.joined.set()
        assert (await runtime.readiness())["consumer"] == "ok"


async def test_a_consumer_holding_one_batch_for_over_a_minute_leaves_the_service_degraded(
    tmp_path: Path,
) -> None:
    async with service_harness("loyalty", tmp_path) as harness:
        runtime = harness.runtime
        assert (await runtime.readiness())["consumer_progress"] == "ok"
        stuck = runtime.consumers[0]
        stuck.batch_since = asyncio.get_running_loop().time() - 90
        progress = (await runtime.readiness())["consumer_progress"]
        assert progress.startswith(f"{stuck.group_id}: no batch done for 9")


def test_readiness_fails_on_what_the_service_needs_and_degrades_on_progress() -> None:
    ok = {"database": "ok", "broker": "ok", "consumer": "ok", "consumer_progress": "ok"}
    assert readiness_answer(ok) == ("ready", 200)
    assert readiness_answer({**ok, "consumer_progress": "stuck"}) == ("degraded", 200)
    assert readiness_answer({**ok, "broker": "not answering"}) == ("not_ready", 503)
    assert readiness_answer({**ok, "consumer": "joining its group"}) == ("not_ready", 503)


@pytest.mark.parametrize("service", SERVICES)
async def test_every_operation_declares_what_it_can_answer(tmp_path: Path, service: str) -> None:
    async with service_harness(service, tmp_path) as harness:
        document = (await harness.client.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    error = {"$ref": "#/components/schemas/ErrorBody"}
    operations = [
        (path, operation)
        for path, methods in document["paths"].items()
        if path.startswith("/v1/")
        for operation in methods.values()
    ]
    assert operations
    for path, operation in operations:
        expected = {"401", "403", "422", "503"} | ({"404"} if "{" in path else set())
        responses = operation["responses"]
        assert expected <= set(responses), (path, sorted(responses))
        for status in expected:
            assert responses[status]["content"]["application/json"]["schema"] == error
        assert operation["security"] == [{"apiKey": []}]
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize(
    ("method", "url", "body", "location"),
    [
        ("POST", "/v1/tickets", '{"customer_id": "c\\u0000", "subject": "s"}', "body"),
        ("GET", "/v1/tickets?customer_id=c%00", None, "query"),
        ("GET", "/v1/tickets/t%00", None, "path"),
    ],
)
async def test_text_with_a_nul_character_is_a_422(
    tmp_path: Path, method: str, url: str, body: str | None, location: str
) -> None:
    """PostgreSQL cannot store U+0000: refused before it reaches a transaction (a 500)."""
    async with service_harness("ticketing", tmp_path) as harness:
        answer = await harness.client.request(
            method, url, content=body, headers={"content-type": "application/json"}
        )
    assert answer.status_code == 422, answer.text
    [field] = answer.json()["error"]["fields"]
    assert field["location"] == location


async def test_an_escaped_backslash_before_u0000_is_not_a_nul(tmp_path: Path) -> None:
    async with service_harness("ticketing", tmp_path) as harness:
        answer = await harness.client.post(
            "/v1/tickets",
            content='{"customer_id": "c-1", "subject": "C:\\\\u0000", "kind": "inquiry", '
            '"category": "other"}',
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 201, answer.text
    assert answer.json()["subject"] == "C:\\u0000"


@pytest.mark.parametrize("service", SERVICES)
async def test_every_operation_has_a_short_unique_id_and_a_description(
    tmp_path: Path, service: str
) -> None:
    async with service_harness(service, tmp_path) as harness:
        document = (await harness.client.get("/openapi.json")).json()
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    ids = [operation["operationId"] for _, operation in operations]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{2,40}", i) and "_v1_" not in i for i in ids), ids
    assert [name for name, operation in operations if not operation.get("description")] == []


async def test_each_request_gets_an_id_and_an_access_log_line_without_its_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="loopcrm.access")
    async with service_harness("profile", tmp_path) as harness:
        given = await harness.client.get(
            "/v1/customers/c-secret-42", headers={"x-request-id": "req-123"}
        )
        made = await harness.client.get("/v1/customers/c-secret-42")
        forged = await harness.client.get("/v1/tags", headers={"x-request-id": "bad id; drop"})

    assert given.headers["x-request-id"] == "req-123"
    assert len(made.headers["x-request-id"]) == 32
    assert forged.headers["x-request-id"] != "bad id; drop"
    lines = [r for r in caplog.records if r.name == "loopcrm.access"]
    first = lines[0]
    assert (first.method, first.route, first.status, first.request_id) == (  # type: ignore[attr-defined]
        "GET",
        "/v1/customers/{customer_id}",
        404,
        "req-123",
    )
    assert all("c-secret-42" not in r.getMessage() + str(r.__dict__) for r in lines)


async def test_the_docs_page_needs_nothing_from_the_internet(tmp_path: Path) -> None:
    async with service_harness("loyalty", tmp_path) as harness:
        page = await harness.client.get("/docs")
        assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
        fetched = [await harness.client.get(asset) for asset in assets if asset.startswith("/")]
    assert page.status_code == 200
    assert assets and all(asset.startswith("/") for asset in assets), assets
    assert all(answer.status_code == 200 for answer in fetched)
    assert any("swagger-ui-bundle.js" in asset for asset in assets)
