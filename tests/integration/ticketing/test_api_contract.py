"""Every endpoint: 422 naming the field for bad input, 404 for unknown ids, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.ticketing.helpers import add_agent, open_ticket, published
from tests.support.events import new_id

QUIET = {"tasks_enabled": False, "consumers_enabled": False}


def invalid_fields(response: Any) -> set[str]:
    assert response.status_code == 422, (response.request.url, response.text)
    body = response.json()["error"]
    assert body["code"] == "invalid_request"
    return {entry["field"] for entry in body["fields"]}


def field_named(response: Any, field: str) -> bool:
    return any(field in named for named in invalid_fields(response))


async def test_bad_input_is_a_422_naming_the_field(service):
    customer_id = new_id("c")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    async with service("ticketing", **QUIET) as ticketing:
        client = ticketing.client
        ticket = await open_ticket(client, customer_id)
        agent = await add_agent(client, new_id("a"), "quality")
        good = {"customer_id": customer_id, "kind": "inquiry", "category": "size", "subject": "x"}
        cases: list[tuple[str, str, dict[str, Any] | None, dict[str, str] | None, str]] = [
            ("POST", "/v1/tickets", {**good, "kind": "callback"}, None, "kind"),
            ("POST", "/v1/tickets", {**good, "category": "weather"}, None, "category"),
            ("POST", "/v1/tickets", {**good, "subject": "  "}, None, "subject"),
            ("POST", "/v1/tickets", {**good, "colour": "red"}, None, "colour"),
            (
                "POST",
                "/v1/tickets",
                {**good, "opened_at": "2025-03-01T09:00:00"},
                None,
                "opened_at",
            ),
            ("POST", "/v1/tickets", {**good, "opened_at": future}, None, "opened_at"),
            (
                "POST",
                "/v1/tickets",
                {k: v for k, v in good.items() if k != "customer_id"},
                None,
                "customer_id",
            ),
            ("GET", "/v1/tickets", None, {"status": "lost"}, "status"),
            ("GET", "/v1/tickets", None, {"limit": "0"}, "limit"),
            ("GET", "/v1/tickets", None, {"cursor": "not-a-cursor"}, "cursor"),
            ("GET", "/v1/queue", None, {"cursor": "YWZ0ZXI6eA"}, "cursor"),
            ("GET", "/v1/queue", None, {"category": "weather"}, "category"),
            ("GET", "/v1/queue", None, {"limit": "1000"}, "limit"),
            ("POST", f"/v1/tickets/{ticket['id']}/responses", {"body": ""}, None, "body"),
            (
                "POST",
                f"/v1/tickets/{ticket['id']}/responses",
                {"body": "x", "agent_id": "nobody"},
                None,
                "agent_id",
            ),
            ("POST", f"/v1/tickets/{ticket['id']}/resolve", {"csat": 6}, None, "csat"),
            ("POST", f"/v1/tickets/{ticket['id']}/resolve", {"csat": 3, "note": "x"}, None, "note"),
            ("POST", "/v1/agents", {"name": "A", "skills": ["cooking"]}, None, "skills"),
            ("POST", "/v1/agents", {"skills": []}, None, "name"),
            ("POST", "/v1/agents", {"name": "A", "senior": "maybe"}, None, "senior"),
            ("PATCH", f"/v1/agents/{agent['agent_id']}", {"active": None}, None, "active"),
            ("PATCH", f"/v1/agents/{agent['agent_id']}", {"boss": True}, None, "boss"),
            ("PUT", "/v1/sla-policy", {"other_priority": "urgent"}, None, "other_priority"),
            (
                "PUT",
                "/v1/sla-policy",
                {"first_response_hours": {"gold": 4}},
                None,
                "first_response_hours.bronze",
            ),
            ("PUT", "/v1/sla-policy", {"speed": 1}, None, "speed"),
            ("GET", "/v1/reports/return-reasons", None, {"since": "yesterday"}, "since"),
            (
                "GET",
                "/v1/reports/return-reasons",
                None,
                {"since": "2025-03-02T00:00:00Z", "until": "2025-03-01T00:00:00Z"},
                "until",
            ),
        ]
        for method, path, body, params, field in cases:
            response = await client.request(method, path, json=body, params=params)
            assert field_named(response, field), (method, path, body, params, response.text)


async def test_unknown_ids_are_404(service):
    async with service("ticketing", **QUIET) as ticketing:
        client = ticketing.client
        missing = new_id("missing")
        for method, path, body in [
            ("GET", f"/v1/tickets/{missing}", None),
            ("GET", f"/v1/tickets/{missing}/responses", None),
            ("POST", f"/v1/tickets/{missing}/responses", {"body": "Hello"}),
            ("POST", f"/v1/tickets/{missing}/resolve", {}),
            ("GET", f"/v1/agents/{missing}", None),
            ("PATCH", f"/v1/agents/{missing}", {"active": False}),
        ]:
            response = await client.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert response.json()["error"]["code"] == "not_found"


async def test_answering_resolving_and_conflicts(broker, service):
    customer_id = new_id("c")
    async with service("ticketing", **QUIET) as ticketing:
        client = ticketing.client
        agent = await add_agent(client, new_id("a"), "quality")
        ticket = await open_ticket(client, customer_id, category="payment")
        assert ticket["assignee"] is None  # nobody has the payment skill

        first = await client.post(
            f"/v1/tickets/{ticket['id']}/responses",
            json={"body": "Looking into it.", "agent_id": agent["agent_id"]},
        )
        second = await client.post(f"/v1/tickets/{ticket['id']}/responses", json={"body": "Done"})
        assert (first.status_code, first.json()["first_response"]) == (201, True)
        assert second.json()["first_response"] is False
        answered = (await client.get(f"/v1/tickets/{ticket['id']}")).json()
        assert answered["first_response_at"] == first.json()["responded_at"]
        assert answered["assignee"] == agent["agent_id"]

        resolved = await client.post(f"/v1/tickets/{ticket['id']}/resolve", json={"csat": 5})
        assert resolved.status_code == 200
        assert (resolved.json()["status"], resolved.json()["csat"]) == ("resolved", 5)
        again = await client.post(f"/v1/tickets/{ticket['id']}/resolve")
        assert (again.status_code, again.json()["error"]["code"]) == (409, "already_resolved")
        late = await client.post(f"/v1/tickets/{ticket['id']}/responses", json={"body": "PS"})
        assert late.status_code == 409
        taken = await client.post("/v1/agents", json={"agent_id": agent["agent_id"], "name": "B"})
        assert taken.status_code == 409

        events = await published(
            broker.bootstrap, "ticket.resolved", lambda e: e["data"]["ticket_id"] == ticket["id"]
        )
        assert (events[0]["data"]["csat"], events[0]["data"]["kind"]) == (5, "inquiry")

        resolved_only = await client.get(
            "/v1/tickets", params={"customer_id": customer_id, "status": "resolved"}
        )
        assert [t["id"] for t in resolved_only.json()["items"]] == [ticket["id"]]
        assert (await client.get("/v1/queue")).json()["total"] == 0


async def test_pagination(service):
    customer_id = new_id("c")
    async with service("ticketing", **QUIET) as ticketing:
        client = ticketing.client
        opened = [(await open_ticket(client, customer_id))["id"] for _ in range(5)]
        seen: list[str] = []
        cursor: str | None = None
        while True:
            after = {"cursor": cursor} if cursor is not None else {}
            params = {"customer_id": customer_id, "limit": 2, **after}
            page = (await client.get("/v1/tickets", params=params)).json()
            assert page["total"] == 5
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(opened)
        assert len(seen) == 5
