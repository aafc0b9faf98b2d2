"""The figures that need the whole stack (broker + five services, like ``loopcrm up``), in the
order that keeps each honest: at rest (5) and complaint latency with no load (3) first,
then the customer 360 (4, which seeds customers), then the storefront mix (2, with complaint
samples under load). The mix runs again on a fresh stack on the other database, if any."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

from tests.bench.context import BenchContext
from tests.bench.figures import complaint, customer360, mix, rest
from tests.bench.load import produce_all
from tests.bench.settle import wait_caught_up
from tests.bench.stack import Stack, start_stack, stop_stack
from tests.bench.workload import customer_ids, seed_events
from tests.support import builders

WARM_CUSTOMERS = 20


@asynccontextmanager
async def running_stack(bench: BenchContext, kind: str) -> AsyncIterator[Stack]:
    """A fresh stack on ``kind`` databases, warmed up; stopped and dropped whatever happens."""
    scratch = bench.scratch(f"stack-{kind}")
    databases = bench.databases(kind, scratch.name)
    stack: Stack | None = None
    try:
        stack = await start_stack(bench.processes, databases, scratch)
        for name, reason in stack.failed.items():
            first_line = reason.splitlines()[0] if reason else ""
            bench.recorder.notes.append(f"{kind} stack: {name} did not start: {first_line}")
        for note in await warm_up(stack, bench.plan.warm_timeout_s):
            bench.recorder.notes.append(f"{kind} stack: {note}")
        yield stack
    finally:
        if stack is not None:
            stop_stack(bench.processes, stack)
        bench.processes.stop_all()
        await bench.drop(databases)


async def warm_up(stack: Stack, timeout_s: float) -> list[str]:
    """A few events every service consumes, then wait until each one finished some (its
    consumer has joined) and caught up."""
    ids = customer_ids("bench-warm", WARM_CUSTOMERS)
    events = seed_events(ids, seed=9)
    events += [builders.order_placed(i) for i in ids[:5]]
    events += [builders.tier_changed(i, new_tier="silver") for i in ids[:5]]
    await produce_all(stack.broker.bootstrap, events)
    expected = {name: {"*": 1} for name in stack.services}
    done, _ = await wait_caught_up(stack.services, timeout_s, expected)
    return [f"{name} not caught up with the warm-up after {timeout_s:.0f}s"
            for name, ok in done.items() if not ok]  # fmt: skip


async def run(bench: BenchContext, figures: Collection[int]) -> None:
    primary = bench.primary_database
    if set(figures) & {2, 3, 4, 5}:
        await _on_stack(bench, primary, figures)
    if 2 in figures:
        for kind in bench.database_kinds:
            if kind != primary:
                await _on_stack(bench, kind, {2})


FIGURES = {5: ("rest", "5 at rest"), 3: ("complaint", "3 complaint latency"),
           4: ("customer360", "4 customer 360"), 2: ("mix", "2 mix")}  # fmt: skip


async def _on_stack(bench: BenchContext, kind: str, figures: Collection[int]) -> None:
    try:
        async with running_stack(bench, kind) as stack:
            if 5 in figures:
                await rest.measure(bench, stack)
            baseline = None
            if 3 in figures:
                baseline = await complaint.measure_quiet(bench, stack)
            if 4 in figures:
                await customer360.measure(bench, stack)
            if 2 in figures:
                await mix.measure(bench, stack, baseline)
    except Exception as exc:
        error = f"the stack on {kind} failed: {type(exc).__name__}: {exc}"
        recorded = {(f.key.split("/")[0], f.database) for f in bench.recorder.figures}
        for number in sorted(figures):
            key, title = FIGURES[number]
            if (key, kind) not in recorded:
                bench.recorder.fail(key, f"{title} {kind}" if number == 2 else title, kind, error)
