"""Figure 6: the segmentation sweep over many due customers, through
``tests.bench.sweep.measure_sweep(database_url, customers)`` (written beside the service),
on a fresh database of the primary kind."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Callable
from typing import Any

from tests.bench.context import BenchContext
from tests.bench.report import NOT_AVAILABLE

SWEEP_MODULE = "tests.bench.sweep"
GOAL_SECONDS, GOAL_RSS_MIB = 60.0, 1024.0
RULE = (
    "6 sweep: tests.bench.sweep.measure_sweep(url, customers) on a fresh database; pass when "
    "the sweep takes <= 60 s and its peak RSS <= 1 GiB (the goal is for 1,000,000 customers "
    "on PostgreSQL)."
)


def _find_measure_sweep() -> Callable[..., Any] | None:
    try:
        module = importlib.import_module(SWEEP_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == SWEEP_MODULE:
            return None
        raise
    function = getattr(module, "measure_sweep", None)
    return function if callable(function) else None


async def _call(function: Callable[..., Any], url: str, customers: int) -> Any:
    if inspect.iscoroutinefunction(function):
        return await function(url, customers)
    result = await asyncio.to_thread(function, url, customers)
    return await result if inspect.isawaitable(result) else result


def _number(result: Any, *names: str) -> float | None:
    for name in names:
        value = result.get(name) if isinstance(result, dict) else getattr(result, name, None)
        if isinstance(value, int | float):
            return float(value)
    return None


async def measure(bench: BenchContext) -> None:
    plan = bench.plan
    kind = bench.primary_database
    customers = plan.sweep_customers
    async with bench.recorder.group("sweep", "6 segmentation sweep", kind) as group:
        function = _find_measure_sweep()
        if function is None:
            group.add("", "6 segmentation sweep", None, "", status=NOT_AVAILABLE,
                      error="not available: tests/bench/sweep.py has no measure_sweep yet",
                      details={"rule": RULE})  # fmt: skip
            return
        databases = bench.databases(kind, "sweep")
        try:
            url = await databases.create("segmentation")
            async with asyncio.timeout(plan.sweep_timeout_s):
                result = await _call(function, url, customers)
        finally:
            await bench.drop(databases)
        seconds = _number(result, "seconds", "elapsed_s", "duration_s")
        rss = _number(result, "peak_rss_mib", "rss_mib", "peak_mib")
        still_due = _number(result, "still_due") or 0
        raw = result if isinstance(result, dict) else repr(result)
        note = f"{customers:,} customers"
        if seconds:
            note += f", {customers / seconds:,.0f}/s"
        if still_due:
            note += f", {still_due:,.0f} STILL DUE"
        group.add("seconds", "6 sweep time", seconds, "s", goal=f"<= {GOAL_SECONDS:.0f} s",
                  passed=seconds is not None and seconds <= GOAL_SECONDS and not still_due,
                  note=note,
                  details={"customers": customers, "result": raw, "rule": RULE})  # fmt: skip
        group.add("peak_rss", "6 sweep peak RSS", rss, "MiB", goal=f"<= {GOAL_RSS_MIB:.0f} MiB",
                  passed=rss is not None and rss <= GOAL_RSS_MIB, note=note)  # fmt: skip
