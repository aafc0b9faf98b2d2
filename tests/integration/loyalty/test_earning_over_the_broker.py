"""Earning, refunds, caps, holds and tiers, driven by storefront events over the real broker."""

import json
from datetime import date, timedelta

from shared.clock import FixedClock
from tests.integration.loyalty.helpers import (
    T0,
    assert_ledger_consistent,
    ledger_of,
    wait_for_points,
    wait_handled,
)
from tests.support import builders
from tests.support.builders import new_id
from tests.support.events import publish, read_topic

CLOCK_START = T0 + timedelta(hours=1)


def _for(records, customer_id):
    return [json.loads(r.value) for r in records if r.key.decode() == customer_id]


async def test_the_same_order_delivered_twice_credits_once(broker, service):
    customer_id, order_id = new_id("c"), new_id("o")
    event = builders.order_placed(customer_id, order_id=order_id, amount="120.50", at=T0)
    async with service("loyalty", clock=FixedClock(CLOCK_START)) as loyalty:
        await publish(broker.bootstrap, event, event)
        # A storefront retry under a new event id is recognised by its order id.
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=order_id, amount="120.50", at=T0),
        )
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=new_id("o"), amount="10", at=T0),
        )
        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] > 240)

        assert body["balance"] == 240 + 10  # the first order earns double: 120 -> 240
        entries = await ledger_of(loyalty.client, customer_id)
        assert [e["points"] for e in entries] == [10, 240]
        assert all(e["rule_version"] == 1 for e in entries)
        await assert_ledger_consistent(loyalty.client, customer_id)


async def test_a_refund_claws_back_and_may_leave_a_debt_that_later_earns_repay(broker, service):
    customer_id, order_id = new_id("c"), new_id("o")
    async with service("loyalty", clock=FixedClock(CLOCK_START)) as loyalty:
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=order_id, amount="500.00", at=T0),
        )
        await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] == 1000)
        redeemed = await loyalty.client.post(
            f"/v1/customers/{customer_id}/redemptions",
            json={"points": 800},
            headers={"Idempotency-Key": new_id("k")},
        )
        assert redeemed.status_code == 201, redeemed.text

        await publish(
            broker.bootstrap, builders.order_refunded(customer_id, order_id, amount="125.00", at=T0)
        )
        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] < 200)
        assert body["balance"] == 200 - 250  # a quarter of the order's 1000 points

        await publish(
            broker.bootstrap, builders.order_refunded(customer_id, order_id, amount="375.00", at=T0)
        )
        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] < -50)
        assert (body["balance"], body["debt"], body["available"]) == (-800, 800, 0)

        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=new_id("o"), amount="100", at=T0),
        )
        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] > -800)
        assert (body["balance"], body["debt"]) == (-700, 700)
        # The refunded order counts for nothing toward the tier.
        assert body["tier_progress"]["net_spend_12m"] == "100.00"
        kinds = [e["kind"] for e in await ledger_of(loyalty.client, customer_id)]
        assert kinds == ["earn", "clawback", "clawback", "redeem", "earn"]
        await assert_ledger_consistent(loyalty.client, customer_id)


async def test_points_over_the_daily_cap_are_held_then_released_by_an_admin(broker, service):
    customer_id, order_id = new_id("c"), new_id("o")
    async with service("loyalty", clock=FixedClock(CLOCK_START)) as loyalty:
        # First order of 3000 yuan: 6000 points, 5000 under the cap, 1000 held.
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=order_id, amount="3000", at=T0),
        )
        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["held"] > 0)
        assert (body["balance"], body["held"], body["available"]) == (5000, 1000, 5000)

        pending = await loyalty.client.get(
            "/v1/holds", params={"status": "pending", "customer_id": customer_id}
        )
        assert pending.status_code == 200
        [hold] = pending.json()["items"]
        assert (hold["points"], hold["order_id"], hold["status"]) == (1000, order_id, "pending")

        released = await loyalty.client.post(f"/v1/holds/{hold['hold_id']}/release")
        assert released.status_code == 200, released.text
        assert (released.json()["status"], released.json()["resolved_by"]) == ("released", "dev")
        again = await loyalty.client.post(f"/v1/holds/{hold['hold_id']}/release")
        assert (again.status_code, again.json()["error"]["code"]) == (409, "hold_not_pending")

        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["held"] == 0)
        assert (body["balance"], body["available"]) == (6000, 6000)
        held = _for(await read_topic(broker.bootstrap, "points.held"), customer_id)
        assert held[0]["data"]["points"] == 1000
        assert held[0]["data"]["business_day"] == "2025-03-10"
        earned = _for(await read_topic(broker.bootstrap, "points.earned", expect=2), customer_id)
        assert [e["data"]["reason"] for e in earned] == ["order", "hold_released"]
        assert [e["data"]["balance"] for e in earned] == [5000, 6000]
        await assert_ledger_consistent(loyalty.client, customer_id)


async def test_a_cancelled_hold_is_not_credited(broker, service):
    customer_id = new_id("c")
    async with service("loyalty", clock=FixedClock(CLOCK_START)) as loyalty:
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=new_id("o"), amount="2600", at=T0),
        )
        await wait_for_points(loyalty.client, customer_id, lambda b: b["held"] == 200)
        holds = await loyalty.client.get("/v1/holds", params={"customer_id": customer_id})
        hold_id = holds.json()["items"][0]["hold_id"]

        cancelled = await loyalty.client.post(f"/v1/holds/{hold_id}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["held"] == 0)
        assert body["balance"] == 5000
        listed = await loyalty.client.get(
            "/v1/holds", params={"status": "cancelled", "customer_id": customer_id}
        )
        assert [h["hold_id"] for h in listed.json()["items"]] == [hold_id]
        await assert_ledger_consistent(loyalty.client, customer_id)


async def test_reaching_10000_yuan_makes_a_customer_gold_and_says_so_on_the_broker(broker, service):
    customer_id = new_id("c")
    async with service("loyalty", clock=FixedClock(CLOCK_START + timedelta(days=3))) as loyalty:
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=new_id("o"), amount="2500.00", at=T0),
            builders.order_placed(
                customer_id, order_id=new_id("o"), amount="7499.99", at=T0 + timedelta(days=1)
            ),
        )
        body = await wait_for_points(
            loyalty.client, customer_id, lambda b: b["tier_progress"]["net_spend_12m"] != "2500.00"
        )
        assert body["tier"] == "silver"
        assert body["tier_progress"] == {
            "net_spend_12m": "9999.99",
            "next_tier": "gold",
            "spend_to_next": "0.01",
        }
        await publish(
            broker.bootstrap,
            builders.order_placed(
                customer_id, order_id=new_id("o"), amount="0.01", at=T0 + timedelta(days=2)
            ),
        )
        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["tier"] == "gold")

        changes = _for(await read_topic(broker.bootstrap, "tier.changed", expect=2), customer_id)
        assert [(c["data"]["old_tier"], c["data"]["new_tier"]) for c in changes] == [
            ("bronze", "silver"),
            ("silver", "gold"),
        ]
        assert changes[1]["data"]["net_spend_12m"] == "10000.00"
        assert changes[1]["data"]["reason"] == "upgrade"
        assert changes[1]["source"] == "loopcrm/loyalty"
        assert body["tier_progress"]["next_tier"] == "platinum"


async def test_a_referral_rewards_both_on_the_referees_first_order_only(broker, service):
    referrer, referee, self_referrer = new_id("c"), new_id("c"), new_id("c")
    async with service("loyalty", clock=FixedClock(CLOCK_START)) as loyalty:
        await publish(
            broker.bootstrap,
            builders.customer_registered(referrer, at=T0),
            builders.customer_registered(referee, referrer_id=referrer, at=T0),
            builders.customer_registered(self_referrer, referrer_id=self_referrer, at=T0),
        )
        await wait_handled(loyalty.client, "customer.registered", 3)
        await publish(
            broker.bootstrap,
            builders.order_placed(referee, order_id=new_id("o"), amount="10", at=T0),
            builders.order_placed(referee, order_id=new_id("o"), amount="10", at=T0),
            builders.order_placed(self_referrer, order_id=new_id("o"), amount="10", at=T0),
        )
        body = await wait_for_points(loyalty.client, referee, lambda b: b["balance"] >= 330)
        assert body["balance"] == 20 + 300 + 10
        body = await wait_for_points(loyalty.client, referrer, lambda b: b["balance"] > 0)
        assert body["balance"] == 200
        body = await wait_for_points(loyalty.client, self_referrer, lambda b: b["balance"] > 0)
        assert body["balance"] == 20
        reasons = [e["reason"] for e in await ledger_of(loyalty.client, referrer)]
        assert reasons == ["referrer_bonus"]


async def test_birthday_month_doubles_until_the_customer_is_erased(broker, service):
    customer_id = new_id("c")
    in_march = date(1990, T0.month, 21).isoformat()
    async with service("loyalty", clock=FixedClock(CLOCK_START)) as loyalty:
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=new_id("o"), amount="50", at=T0),
        )  # x2
        await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] == 100)
        await publish(
            broker.bootstrap,
            builders.customer_updated(customer_id, birthday=in_march, at=T0),
        )
        await wait_handled(loyalty.client, "customer.updated", 1)
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=new_id("o"), amount="50", at=T0),
        )  # x2
        await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] == 200)
        await publish(
            broker.bootstrap,
            builders.customer_erased(customer_id, erased_at=T0, source="loopcrm/profile", at=T0),
        )
        await wait_handled(loyalty.client, "customer.erased", 1)
        # A late copy of the registration must not bring the birthday back.
        await publish(
            broker.bootstrap, builders.customer_registered(customer_id, birthday=in_march, at=T0)
        )
        await wait_handled(loyalty.client, "customer.registered", 1)
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=new_id("o"), amount="50", at=T0),
        )
        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] > 200)
        assert body["balance"] == 250
        assert len(await ledger_of(loyalty.client, customer_id)) == 3


async def test_a_review_earns_once_per_order(broker, service):
    customer_id, order_id = new_id("c"), new_id("o")

    def review(at):
        return builders.review_posted(customer_id, order_id=order_id, rating=5, at=at)

    async with service("loyalty", clock=FixedClock(CLOCK_START)) as loyalty:
        await publish(
            broker.bootstrap,
            builders.order_placed(customer_id, order_id=order_id, amount="1", at=T0),
            review(T0),
            review(T0 + timedelta(days=1)),
            builders.order_placed(customer_id, order_id=new_id("o"), amount="1", at=T0),
        )
        body = await wait_for_points(loyalty.client, customer_id, lambda b: b["balance"] >= 53)
        assert body["balance"] == 2 + 50 + 1
