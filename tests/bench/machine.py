"""What the machine is doing: load average, a wait for quiet, CPU seconds of processes."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

LoadAverage = tuple[float, float, float]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def load_average() -> LoadAverage:
    one, five, fifteen = os.getloadavg()
    return (round(one, 2), round(five, 2), round(fifteen, 2))


async def wait_for_quiet(threshold: float, max_wait_s: float) -> LoadAverage:
    """Wait until the 1-minute load average is under ``threshold`` (at most ``max_wait_s``);
    the load average at the end, quiet or not."""
    deadline = time.monotonic() + max_wait_s
    while os.getloadavg()[0] >= threshold:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        await asyncio.sleep(min(1.0, left))
    return load_average()


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process, children excluded; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds spent by every process on the machine (all cores), from /proc/stat."""
    first = Path("/proc/stat").read_text().splitlines()[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc, children of children too)."""
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = status.read_text()
        except OSError:
            continue
        parents[int(status.parent.name)] = int(text[text.rindex(")") + 2 :].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
