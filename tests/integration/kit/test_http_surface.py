"""What every service shows at its edge: auth, health, readiness, valid Prometheus metrics."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from shared.registry import SERVICE_NAMES
from tests.support.polling import eventually
from tests.support.services import DEV_KEY

KIT_METRICS = {
    "loopcrm_http_requests",
    "loopcrm_http_request_duration_seconds",
    "loopcrm_events_consumed",
    "loopcrm_event_handling_duration_seconds",
    "loopcrm_events_published",
    "loopcrm_outbox_backlog",
    "loopcrm_outbox_oldest_age_seconds",
    "loopcrm_consumer_lag",
}


@pytest.mark.parametrize("name", SERVICE_NAMES)
async def test_metrics_are_valid_exposition_with_consumer_and_outbox_series(service, name):
    async with service(name) as running:
        await running.client.get("/healthz")
        await running.client.get("/v1/does-not-exist")
        response = await running.client.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(response.text)}
        assert set(families) >= KIT_METRICS
        consumed = families["loopcrm_events_consumed"].samples
        outcomes = {s.labels["outcome"] for s in consumed}
        assert {"handled", "duplicate", "retried", "dead_lettered"} <= outcomes
        routes = {s.labels.get("route") for s in families["loopcrm_http_requests"].samples}
        assert "/healthz" in routes and "unmatched" in routes
        for family in families.values():
            for sample in family.samples:
                assert "customer_id" not in sample.labels


@pytest.mark.parametrize("name", SERVICE_NAMES)
async def test_v1_routes_need_a_key_and_operations_routes_stay_open(service, name):
    async with service(name, api_keys=[{"name": "ro", "key": "ro-key", "scopes": []}]) as running:
        client = running.client
        openapi = (await client.get("/openapi.json")).json()
        v1_gets = [
            path
            for path, methods in openapi["paths"].items()
            if path.startswith("/v1/") and "get" in methods
        ]
        assert v1_gets, f"{name} has no /v1 GET routes"
        path = v1_gets[0].replace("{", "").replace("}", "")
        anonymous = await client.get(path, headers={"Authorization": ""})
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "unauthenticated"
        scoped_out = await client.get(path, headers={"Authorization": "Bearer ro-key"})
        assert scoped_out.status_code == 403
        wrong = await client.get(path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        for open_path in ("/healthz", "/metrics"):
            response = await client.get(open_path, headers={"Authorization": ""})
            assert response.status_code == 200, open_path
        # Ready once the consumers have joined their group, a few seconds after the start.
        await eventually(
            lambda: client.get("/readyz", headers={"Authorization": ""}),
            lambda response: response.status_code == 200,
        )
        assert DEV_KEY not in (await client.get("/metrics")).text
