"""Figure 4: the customer 360 on profile. Customers are seeded through the broker (a
registration each, views, an order for half) and profile is waited for (every event finished,
lag 0); then ``GET /v1/customers/{id}`` over random seeded ids, open-loop at 200/s (latency from
each request's scheduled start), and the maximum rate closed-loop on a few keep-alive
connections beside ``/healthz`` of the same process, with the same client."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from tests.bench.context import BenchContext
from tests.bench.httpclient import HttpClient, HttpResponse
from tests.bench.load import closed_loop, is_ok, open_loop, produce_all
from tests.bench.settle import wait_caught_up
from tests.bench.stack import AUTH, Stack
from tests.bench.stats import percentile, summary_ms
from tests.bench.workload import customer_ids, seed_events

SEED_PREFIX = "bench-c"
GOAL_P99_MS, GOAL_RATIO = 20.0, 0.3
RULE = (
    "4 customer 360: after seeding (profile caught up: every seeded event finished, lag 0), "
    "open-loop GET /v1/customers/{random seeded id} at 200/s, latency from each scheduled "
    "start; pass when p99 <= 20 ms and every answer is a 200 with the customer's body. Max "
    "rate: closed loop on 4 keep-alive connections, customers/s over /healthz/s of the same "
    "process; pass when >= 0.3 with no errors. Baseline: /healthz open-loop p99."
)


async def recovered(client: HttpClient, timeout_s: float = 30.0) -> float:
    """After an open-loop phase, wait until the server answers /healthz quickly again (a
    backlog of late requests would otherwise spill into the next phase); seconds waited."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    fast = 0
    while fast < 3 and loop.time() - started < timeout_s:
        before = loop.time()
        try:
            await client.get("/healthz", timeout=timeout_s)
            fast = fast + 1 if loop.time() - before < 0.05 else 0
        except (OSError, TimeoutError):
            fast = 0
        await asyncio.sleep(0.05)
    return round(loop.time() - started, 2)


def _customer_ok(path: str, response: HttpResponse) -> bool:
    return response.status == 200 and path.rsplit("/", 1)[-1].encode() in response.body


async def measure(bench: BenchContext, stack: Stack) -> None:
    """The seeded ids are the first of the mix's population (same prefix and numbering)."""
    plan = bench.plan
    ids = customer_ids(SEED_PREFIX, plan.seed_customers)
    async with bench.recorder.group("customer360", "4 customer 360", stack.databases.kind) as g:
        stack.require("profile")
        profile = stack.services["profile"]
        events = seed_events(ids)
        expected = dict(Counter(event["type"] for event in events))
        seed_s = await produce_all(stack.broker.bootstrap, events)
        done, waited = await wait_caught_up(
            {"profile": profile}, plan.seed_timeout_s, {"profile": expected}
        )
        if not done["profile"]:
            raise TimeoutError(f"profile did not consume the seed within {plan.seed_timeout_s}s")
        # The other services consume the seed too; measure once they are quiet again.
        others, _ = await wait_caught_up(stack.services, plan.warm_timeout_s)
        rng = random.Random(4)

        def customer_path() -> str:
            return f"/v1/customers/{rng.choice(ids)}"

        def healthz_path() -> str:
            return "/healthz"

        def connect() -> HttpClient:
            return HttpClient("127.0.0.1", profile.port, headers=AUTH)

        async with connect() as client:
            for _ in range(5):
                path = customer_path()
                response = await client.get(path)
                if not _customer_ok(path, response):
                    raise RuntimeError(f"GET {path}: {response.status} {response.body[:200]!r}")
            rate = plan.open_loop_rate
            healthz = await open_loop(client, healthz_path, is_ok, rate, plan.healthz_open_loop_s)
            recovery = [await recovered(client)]
            customers = await open_loop(client, customer_path, _customer_ok, rate, plan.open_loop_s)
            recovery.append(await recovered(client))
        connections, seconds = plan.closed_loop_connections, plan.closed_loop_s
        max_healthz = await closed_loop(connect, healthz_path, is_ok, connections, seconds)
        max_customers = await closed_loop(
            connect, customer_path, _customer_ok, connections, seconds
        )

        p99 = percentile(customers.latencies_ms, 99)
        p50 = percentile(customers.latencies_ms, 50)
        healthz_p99 = percentile(healthz.latencies_ms, 99)
        not_quiet = sorted(name for name, quiet in others.items() if not quiet)
        g.add(
            "latency",
            f"4 GET customer p99 @{rate}/s",
            p99,
            "ms",
            baseline=healthz_p99,
            baseline_label="/healthz p99",
            goal=f"<= {GOAL_P99_MS:.0f} ms",
            passed=p99 is not None and p99 <= GOAL_P99_MS and customers.errors == 0,
            note=f"p50 {p50:.1f} ms, {customers.errors} errors / {customers.sent}"
            if p50 is not None
            else f"{customers.errors} errors / {customers.sent}",
            details={
                "seeded_customers": len(ids),
                "seed_events": expected,
                "seed_produce_s": round(seed_s, 2),
                "seed_consumed_s": round(waited, 2),
                "stack_not_quiet_before_requests": not_quiet,
                "recovery_waits_s": recovery,
                "customers": summary_ms(customers.latencies_ms)
                | {"sent": customers.sent, "errors": customers.errors,
                   "error_samples": customers.error_samples},
                "healthz": summary_ms(healthz.latencies_ms)
                | {"sent": healthz.sent, "errors": healthz.errors},
                "rule": RULE,
            },
        )  # fmt: skip
        ratio = (
            max_customers.per_second / max_healthz.per_second if max_healthz.per_second else None
        )
        errors = max_customers.errors + max_healthz.errors
        g.add(
            "max_rate_ratio",
            "4 max rate customer / healthz",
            ratio,
            "x",
            baseline=max_healthz.per_second,
            baseline_label="/healthz req/s",
            goal=f">= {GOAL_RATIO}",
            passed=ratio is not None and ratio >= GOAL_RATIO and errors == 0,
            note=f"{max_customers.per_second:,.0f} vs {max_healthz.per_second:,.0f} req/s, "
            f"{connections} conns, {errors} errors",
            details={
                "customers": max_customers.__dict__ | {"per_second": max_customers.per_second},
                "healthz": max_healthz.__dict__ | {"per_second": max_healthz.per_second},
            },
        )
