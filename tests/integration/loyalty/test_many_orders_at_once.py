"""1000 orders for 100 customers, published at once: every balance ends exactly as the pure
rules compute it, though the consumer applies runs of a partition's events in one transaction
(a run's events applied in memory to the accounts loaded for the whole run)."""

import random
import time
from datetime import datetime, timedelta
from decimal import Decimal

from services.loyalty.rules.account import PointsAccount
from services.loyalty.rules.book import Origin
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK
from shared.clock import FixedClock
from tests.integration.loyalty.helpers import (
    T0,
    assert_ledger_consistent,
    points_of,
    publish_many,
    wait_handled,
)
from tests.support import builders
from tests.support.builders import new_id

CUSTOMERS, ORDERS_EACH = 100, 10


def _orders(rng: random.Random) -> list[dict]:
    """Each customer's orders in time order, customers interleaved at random."""
    queues = []
    for _ in range(CUSTOMERS):
        customer_id = new_id("c")
        queue = []
        for k in range(ORDERS_EACH):
            # Large and small orders, several a business day: multipliers, tier bonuses and
            # the daily cap all come into play.
            amount = Decimal(rng.choice(["9.99", "88.80", "499.50", "1000.00", "2999.99"]))
            at = T0 + timedelta(hours=9 * k, minutes=rng.randrange(60))
            queue.append(
                builders.order_placed(customer_id, order_id=new_id("o"), amount=amount, at=at)
            )
        queues.append(queue)
    events = []
    while queues:
        queue = rng.choice(queues)
        events.append(queue.pop(0))
        if not queue:
            queues.remove(queue)
    return events


def _expected(events: list[dict]) -> dict[str, PointsAccount]:
    accounts: dict[str, PointsAccount] = {}
    for event in events:
        data = event["data"]
        account = accounts.setdefault(data["customer_id"], PointsAccount(data["customer_id"]))
        at = datetime.fromisoformat(event["time"])
        account.place_order(
            data["order_id"], Decimal(data["amount"]), Origin(event["id"], at, DEFAULT_RULEBOOK)
        )
    return accounts


async def test_1000_orders_for_100_customers_end_with_exact_balances(broker, service):
    events = _orders(random.Random(20250310))
    expected = _expected(events)
    clock = FixedClock(T0 + timedelta(days=10))
    async with service("loyalty", clock=clock) as loyalty:
        started = time.perf_counter()
        await publish_many(broker.bootstrap, events)
        await wait_handled(loyalty.client, "order.placed", len(events), timeout=60)
        elapsed = time.perf_counter() - started
        print(f"\n{len(events)} orders handled in {elapsed:.1f}s")

        for customer_id, account in expected.items():
            body = await points_of(loyalty.client, customer_id)
            assert body is not None
            assert (body["balance"], body["held"], body["tier"]) == (
                account.balance,
                account.held,
                account.tier.value,
            ), customer_id
        for customer_id in list(expected)[:5]:
            await assert_ledger_consistent(loyalty.client, customer_id)
        assert any(account.held for account in expected.values())  # the cap was exercised
        assert {a.tier.value for a in expected.values()} >= {"silver", "gold"}
