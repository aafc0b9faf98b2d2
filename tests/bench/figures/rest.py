"""Figure 5: the whole stack at rest (warm, no traffic): CPU of the broker and of each service
process from /proc/<pid>/stat (utime + stime, children excluded), as % of one core."""

from __future__ import annotations

import asyncio
import time

from tests.bench.context import BenchContext
from tests.bench.machine import machine_busy_seconds, process_cpu_seconds
from tests.bench.stack import Stack

GOAL_PERCENT = 10.0
RULE = (
    "5 at rest: CPU seconds (utime+stime, children excluded) of the broker and each service "
    "over the window / wall time, as % of one core; pass when the total <= 10 % and all five "
    "services run. Baseline: the whole machine's busy CPU over the same window (context)."
)


async def measure(bench: BenchContext, stack: Stack) -> None:
    plan = bench.plan
    kind = stack.databases.kind
    async with bench.recorder.group("rest", "5 at rest", kind) as group:
        await asyncio.sleep(plan.rest_settle_s)
        pids = stack.pids
        before = {name: process_cpu_seconds(pid) for name, pid in pids.items()}
        machine_before, started = machine_busy_seconds(), time.perf_counter()
        await asyncio.sleep(plan.rest_s)
        wall = time.perf_counter() - started
        machine = (machine_busy_seconds() - machine_before) / wall * 100
        percent: dict[str, float] = {}
        for name, pid in pids.items():
            first, last = before[name], process_cpu_seconds(pid)
            if first is None or last is None:
                raise RuntimeError(f"{name} (pid {pid}) ended during the at-rest window")
            percent[name] = (last - first) / wall * 100
        total = sum(percent.values())
        missing = sorted(stack.failed)
        note = f"{plan.rest_s:.0f}s window"
        if missing:
            note += f"; NOT RUNNING: {', '.join(missing)}"
        details = {"window_s": round(wall, 2), "percent_of_one_core": percent, "pids": pids,
                   "missing": missing, "rule": RULE}  # fmt: skip
        group.add(
            "total",
            "5 at rest: total CPU",
            total,
            "% core",
            baseline=machine,
            baseline_label="whole machine",
            goal=f"<= {GOAL_PERCENT:.0f} % core",
            passed=total <= GOAL_PERCENT and not missing,
            note=note,
            details=details,
        )
        for name, value in percent.items():
            group.add(name, f"5 at rest: {name}", value, "% core")
