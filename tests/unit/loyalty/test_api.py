"""Tasks, ledger, points, holds and the rulebook over HTTP: answers, 404s and 422s naming
fields. Customers become known through events delivered by the harness."""

from datetime import timedelta

from shared.clock import FixedClock
from shared.pagination import encode_cursor
from tests.support import builders
from tests.support.builders import new_id
from tests.support.harness import service_harness
from tests.unit.loyalty.test_handlers import T0

READ_WRITE_KEY = "reader-writer-key-0123456789"


def _fields(response) -> list[str]:
    return [f["field"] for f in response.json()["error"]["fields"]]


async def _known_customer(loyalty, amount="10") -> str:
    customer_id = new_id("c")
    await loyalty.deliver(builders.order_placed(customer_id, amount=amount, at=T0))
    return customer_id


async def ledger_of(client, customer_id: str) -> list[dict]:
    response = await client.get(f"/v1/customers/{customer_id}/ledger", params={"limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_daily_tasks_are_rewarded_once_per_business_day(tmp_path):
    clock = FixedClock(T0 + timedelta(hours=1))
    async with service_harness("loyalty", tmp_path, clock=clock) as loyalty:
        customer_id = await _known_customer(loyalty)  # 20 points
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


async def test_the_ledger_pages_newest_first_and_unknown_ids_are_404(tmp_path):
    clock = FixedClock(T0 + timedelta(hours=1))
    async with service_harness("loyalty", tmp_path, clock=clock) as loyalty:
        customer_id = await _known_customer(loyalty)
        for task in ("check_in", "share"):
            await loyalty.client.post(f"/v1/customers/{customer_id}/tasks", json={"task": task})
        ledger = f"/v1/customers/{customer_id}/ledger"

        first = await loyalty.client.get(ledger, params={"limit": 2})
        assert [e["reason"] for e in first.json()["items"]] == ["share", "check_in"]
        cursor = first.json()["next_cursor"]
        second = await loyalty.client.get(ledger, params={"limit": 2, "cursor": cursor})
        assert [e["reason"] for e in second.json()["items"]] == ["order"]
        assert second.json()["next_cursor"] is None
        entry = second.json()["items"][0]
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


async def test_the_rulebook_is_versioned_and_entries_keep_the_version_that_made_them(tmp_path):
    clock = FixedClock(T0 + timedelta(hours=1))
    async with service_harness("loyalty", tmp_path, clock=clock) as loyalty:
        client = loyalty.client
        in_force = (await client.get("/v1/rules")).json()
        assert in_force["version"] == 1
        assert in_force["rules"]["daily_earn_cap"] == 5000
        assert in_force["rules"]["gold_bonus"] == "1.25"
        customer_id = await _known_customer(loyalty)

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


async def test_admin_endpoints_need_the_admin_scope(tmp_path):
    api_keys = [{"key": READ_WRITE_KEY, "scopes": ["loyalty:read", "loyalty:write"]}]
    async with service_harness("loyalty", tmp_path, api_keys=api_keys) as loyalty:
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


async def test_unknown_holds_are_404_and_a_bad_status_is_422(tmp_path):
    async with service_harness("loyalty", tmp_path) as loyalty:
        for action in ("release", "cancel"):
            response = await loyalty.client.post(f"/v1/holds/{new_id('hold')}/{action}")
            assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
        response = await loyalty.client.get("/v1/holds", params={"status": "lost"})
        assert (response.status_code, _fields(response)) == (422, ["query.status"])
        empty = await loyalty.client.get("/v1/holds")
        assert empty.json() == {"items": [], "next_cursor": None, "total": 0}


async def test_holds_and_the_ledger_page_by_opaque_cursors(tmp_path):
    async with service_harness("loyalty", tmp_path, clock=FixedClock(T0)) as loyalty:
        customers = [new_id("c") for _ in range(3)]
        for k, customer_id in enumerate(customers):  # 5200 points each: 200 held
            at = T0 + timedelta(minutes=k)
            await loyalty.deliver(builders.order_placed(customer_id, amount="2600", at=at))

        first = await loyalty.client.get("/v1/holds", params={"limit": 2})
        assert first.status_code == 200, first.text
        assert [h["customer_id"] for h in first.json()["items"]] == customers[:2]
        assert first.json()["total"] == 3
        cursor = first.json()["next_cursor"]
        second = await loyalty.client.get("/v1/holds", params={"limit": 2, "cursor": cursor})
        assert [h["customer_id"] for h in second.json()["items"]] == customers[2:]
        assert second.json()["next_cursor"] is None

        foreign = [encode_cursor("not-a-key"), encode_cursor("2025-03-10T04:00:00"), "abc"]
        for path in ("/v1/holds", f"/v1/customers/{customers[0]}/ledger"):
            for cursor in foreign:
                response = await loyalty.client.get(path, params={"cursor": cursor})
                assert (response.status_code, _fields(response)) == (422, ["query.cursor"])
