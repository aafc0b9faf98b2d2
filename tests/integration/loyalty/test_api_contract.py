"""Tasks, ledger, points, holds and rules over HTTP: answers, 404s and 422s naming fields."""

from datetime import timedelta

from shared.clock import FixedClock
from tests.integration.loyalty.helpers import T0, ledger_of, order_placed, wait_for_points
from tests.support.events import new_id, publish

READ_WRITE_KEY = "reader-writer-key-0123456789"


def _fields(response) -> list[str]:
    return [f["field"] for f in response.json()["error"]["fields"]]


async def _known_customer(loyalty, broker, amount="10") -> str:
    customer_id = new_id("c")
    await publish(broker.bootstrap, order_placed(customer_id, new_id("o"), amount))
    await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] > 0)
    return customer_id


async def test_daily_tasks_are_rewarded_once_per_business_day(broker, service):
    clock = FixedClock(T0 + timedelta(hours=1))
    async with service("loyalty", clock=clock) as loyalty:
        customer_id = await _known_customer(loyalty, broker)  # 20 points
        tasks = f"/v1/customers/{customer_id}/tasks"

        check_in = await loyalty.client.post(tasks, json={"task": "check_in"})
        assert check_in.status_code == 201
        assert {k: check_in.json()[k] for k in ("points", "credited", "held", "balance")} == {
            "points": 10,
            "credited": 10,
            "held": 0,
            "balance": 30,
        }
        assert check_in.json()["business_day"] == "2025-03-10"
        twice = await loyalty.client.post(tasks, json={"task": "check_in"})
        assert twice.status_code == 409
        assert twice.json()["error"]["code"] == "already_claimed"
        assert twice.json()["error"]["details"]["business_day"] == "2025-03-10"
        share = await loyalty.client.post(tasks, json={"task": "share"})
        assert (share.status_code, share.json()["balance"]) == (201, 130)

        clock.advance(timedelta(hours=12))  # 01:00 the next day in Shanghai
        tomorrow = await loyalty.client.post(tasks, json={"task": "check_in"})
        assert (tomorrow.status_code, tomorrow.json()["business_day"]) == (201, "2025-03-11")

        for payload, field in [({"task": "review"}, "task"), ({}, "task"), ([], "body")]:
            response = await loyalty.client.post(tasks, json=payload)
            assert (response.status_code, _fields(response)) == (422, [field]), payload
        unknown = await loyalty.client.post(
            f"/v1/customers/{new_id('x')}/tasks", json={"task": "share"}
        )
        assert unknown.status_code == 404


async def test_the_ledger_pages_newest_first_and_unknown_ids_are_404(broker, service):
    async with service("loyalty", clock=FixedClock(T0 + timedelta(hours=1))) as loyalty:
        customer_id = await _known_customer(loyalty, broker)
        for task in ("check_in", "share"):
            await loyalty.client.post(f"/v1/customers/{customer_id}/tasks", json={"task": task})
        ledger = f"/v1/customers/{customer_id}/ledger"

        first = await loyalty.client.get(ledger, params={"limit": 2})
        assert [e["reason"] for e in first.json()["entries"]] == ["share", "check_in"]
        cursor = first.json()["next_cursor"]
        second = await loyalty.client.get(ledger, params={"limit": 2, "cursor": cursor})
        assert [e["reason"] for e in second.json()["entries"]] == ["order"]
        assert second.json()["next_cursor"] is None
        entry = second.json()["entries"][0]
        assert (entry["kind"], entry["points"], entry["rule_version"]) == ("earn", 20, 1)
        assert entry["business_time"] == T0.isoformat().replace("+00:00", "Z")
        assert entry["lot_expires_at"].startswith("2028-03-10T04:00:00")

        for params, field in [
            ({"limit": 0}, "limit"),
            ({"limit": 201}, "limit"),
            ({"cursor": "abc"}, "cursor"),
        ]:
            response = await loyalty.client.get(ledger, params=params)
            assert (response.status_code, _fields(response)) == (422, [f"query.{field}"])
        nobody = new_id("nobody")
        for path in ("points", "ledger", "ledger/verify"):
            response = await loyalty.client.get(f"/v1/customers/{nobody}/{path}")
            assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


async def test_rules_are_versioned_and_entries_keep_the_version_that_made_them(broker, service):
    async with service("loyalty", clock=FixedClock(T0 + timedelta(hours=1))) as loyalty:
        client = loyalty.client
        in_force = (await client.get("/v1/rules")).json()
        assert in_force["version"] == 1
        assert in_force["rules"]["daily_earn_cap"] == 5000
        assert in_force["rules"]["gold_bonus"] == "1.25"
        customer_id = await _known_customer(loyalty, broker)

        published = await client.post("/v1/rules", json={"check_in_points": 15, "gold_bonus": 1.3})
        assert published.status_code == 201, published.text
        assert published.json()["version"] == 2
        assert published.json()["rules"]["gold_bonus"] == "1.3"
        assert published.json()["published_by"] == "dev"
        assert (await client.get("/v1/rules")).json()["version"] == 2
        assert (await client.get("/v1/rules/1")).json()["rules"]["check_in_points"] == 10

        claim = await client.post(f"/v1/customers/{customer_id}/tasks", json={"task": "check_in"})
        assert (claim.json()["points"], claim.json()["rule_version"]) == (15, 2)
        versions = [e["rule_version"] for e in await ledger_of(client, customer_id)]
        assert versions == [2, 1]

        for document, field in [
            ({"gold_bonus": "0.5"}, "gold_bonus"),
            ({"daily_earn_cap": -1}, "daily_earn_cap"),
            ({"silver_min_spend": "20000"}, "silver_min_spend"),
            ({"business_timezone": "Mars/Olympus"}, "business_timezone"),
            ({"no_such_rule": 1}, "no_such_rule"),
            ({"check_in_points": None}, "check_in_points"),
        ]:
            response = await client.post("/v1/rules", json=document)
            assert (response.status_code, _fields(response)) == (422, [field]), document
        stale = await client.post("/v1/rules", json={"version": 2, "share_points": 1})
        assert (stale.status_code, stale.json()["error"]["code"]) == (409, "rules_version_conflict")
        assert (await client.get("/v1/rules/99")).status_code == 404
        bad_version = await client.get("/v1/rules/first")
        assert (bad_version.status_code, _fields(bad_version)) == (422, ["path.version"])


async def test_admin_endpoints_need_the_admin_scope(broker, service):
    api_keys = [{"key": READ_WRITE_KEY, "scopes": ["loyalty:read", "loyalty:write"]}]
    async with service("loyalty", api_keys=api_keys) as loyalty:
        headers = {"Authorization": f"Bearer {READ_WRITE_KEY}"}
        assert (await loyalty.client.get("/v1/rules", headers=headers)).status_code == 200
        for method, path in [
            ("POST", "/v1/rules"),
            ("POST", "/v1/holds/hold-x/release"),
            ("POST", "/v1/holds/hold-x/cancel"),
            ("GET", "/v1/customers/c-1/ledger/verify"),
        ]:
            response = await loyalty.client.request(method, path, headers=headers, json={})
            assert response.status_code == 403, path


async def test_unknown_holds_are_404_and_a_bad_status_is_422(broker, service):
    async with service("loyalty") as loyalty:
        for action in ("release", "cancel"):
            response = await loyalty.client.post(f"/v1/holds/{new_id('hold')}/{action}")
            assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
        response = await loyalty.client.get("/v1/holds", params={"status": "lost"})
        assert (response.status_code, _fields(response)) == (422, ["query.status"])
        empty = await loyalty.client.get("/v1/holds")
        assert empty.json() == {"holds": [], "total": 0, "next_offset": None}
