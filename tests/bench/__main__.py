"""``make bench`` (``python -m tests.bench [--quick]``): every figure of the issue in one run,
each beside its baseline from the same run, printed as a table and written to
var/bench/results.json.

1 consumer throughput per service alone · 2 storefront mix under the whole stack (SQLite and,
when LOOPCRM_TEST_DATABASE_URL names a server, PostgreSQL) · 3 complaint latency · 4 customer
360 · 5 the stack at rest · 6 the segmentation sweep. The database is PostgreSQL when
LOOPCRM_TEST_DATABASE_URL is set (fresh databases, dropped at the end), SQLite otherwise.
Everything the bench starts is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from tests.bench.context import BenchContext
from tests.bench.figures import consume, segmentation_sweep, whole_stack
from tests.bench.machine import descendants, load_average
from tests.bench.plan import FULL, QUICK
from tests.bench.processes import Processes
from tests.bench.recording import Recorder, utc_now
from tests.bench.report import render_table, summary_line, write_json
from tests.support.databases import SERVER_URL_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
QUICK_ENV = "LOOPCRM_BENCH_QUICK"
ALL_FIGURES = (1, 2, 3, 4, 5, 6)

log = logging.getLogger("bench")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"a small version of everything (also {QUICK_ENV}=1)"
    )
    parser.add_argument("--only", default="", help="comma-separated figure numbers, e.g. 1,3")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "var" / "bench" / "results.json")
    parser.add_argument(
        "--keep-workdir",
        action="store_true",
        help="keep the scratch directory (service and broker logs)",
    )
    args = parser.parse_args(argv)
    args.quick = args.quick or os.environ.get(QUICK_ENV, "").lower() in {"1", "true", "yes"}
    parts = [part.strip() for part in args.only.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        parser.error(f"--only takes figure numbers among {ALL_FIGURES}")
    args.figures = sorted({int(part) for part in parts}) if parts else list(ALL_FIGURES)
    if not set(args.figures) <= set(ALL_FIGURES):
        parser.error(f"--only takes figure numbers among {ALL_FIGURES}")
    return args


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=5, check=False).stdout.strip()  # fmt: skip
    except OSError:
        return ""


def _without_password(url: str | None) -> str | None:
    return make_url(url).render_as_string(hide_password=True) if url else None


def run_info(args: argparse.Namespace, bench: BenchContext) -> dict[str, Any]:
    server = bench.server_url
    return {
        "started_at": utc_now(),
        "quick": args.quick,
        "figures": args.figures,
        "database": bench.primary_database,
        "databases": bench.database_kinds,
        "database_server": _without_password(server),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _git("rev-parse", "HEAD"),
        "worktree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_at_start": load_average(),
        "loopcrm_env_overrides": sorted(
            name for name in os.environ if name.startswith("LOOPCRM_") and name != SERVER_URL_ENV
        ),
        "plan": asdict(bench.plan),
    }  # fmt: skip


async def measure(args: argparse.Namespace, bench: BenchContext) -> None:
    figures = set(args.figures)
    if 1 in figures:
        await consume.measure(bench)
    await whole_stack.run(bench, figures)
    if 6 in figures:
        await segmentation_sweep.measure(bench)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def reap_strays() -> list[int]:
    """Anything still below this process (a child's child that outlived it): end it."""
    strays = sorted(descendants(os.getpid()))
    for pid in strays:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and descendants(os.getpid()):
        time.sleep(0.1)
    for pid in descendants(os.getpid()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return strays


async def main_async(args: argparse.Namespace) -> int:
    plan = QUICK if args.quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="loopcrm-bench-"))
    processes = Processes()
    bench = BenchContext(plan, Recorder(plan), processes, workdir, os.environ.get(SERVER_URL_ENV))
    info = run_info(args, bench)
    interrupted = _stop_on_signals()
    started = time.perf_counter()
    log.info("bench (%s) on %s; scratch %s", plan.label, bench.primary_database, workdir)
    try:
        await measure(args, bench)
    finally:
        # Synchronous from here on: a cancellation cannot cut the cleaning short.
        interrupted.cleaning = True
        processes.stop_all()
        strays = reap_strays()
        if strays:
            bench.recorder.notes.append(f"ended stray processes: {strays}")
        left = [(name, pid) for name, pid in processes.started if _alive(pid)]
        if left:
            bench.recorder.notes.append(f"STILL RUNNING after the bench: {left}")
        _run_apart(bench.drop_everything())
        if interrupted.signals:
            bench.recorder.notes.append(f"interrupted by {', '.join(interrupted.signals)}")
        info |= {"processes_started": len(processes.started), "processes_left_running": left,
                 "finished_at": utc_now(), "duration_s": round(time.perf_counter() - started, 1),
                 "load_at_end": load_average(), "notes": bench.recorder.notes,
                 "scratch": str(workdir) if args.keep_workdir else None}  # fmt: skip
        figures = bench.recorder.figures
        write_json(args.output, info, figures)
        print_results(figures, bench.recorder.notes, args.output, info)
        if not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 130 if interrupted.signals else 0


@dataclass
class Interruption:
    signals: list[str] = field(default_factory=list)
    cleaning: bool = False


def _stop_on_signals() -> Interruption:
    """SIGINT/SIGTERM cancel the run; the cancellation is repeated every second until the
    run reaches its cleaning (on 3.11 a library may swallow one cancellation)."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    state = Interruption()

    def cancel_again() -> None:
        if task is not None and not task.done() and not state.cleaning:
            task.cancel()
            loop.call_later(1.0, cancel_again)

    def interrupt(signum: signal.Signals) -> None:
        state.signals.append(signum.name)
        log.warning("%s: stopping everything the bench started", signum.name)
        cancel_again()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, interrupt, signum)
    return state


def _run_apart(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` to its end on a loop of its own, in a thread, whatever this loop's
    task is going through."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="bench-cleanup")
    thread.start()
    thread.join()
    if errors:
        log.warning("cleaning failed: %r", errors[0])


def print_results(figures: list[Any], notes: list[str], output: Path, info: dict[str, Any]) -> None:
    label = "quick" if info["quick"] else "full"
    print(f"\nloopcrm bench ({label}, {info['database']}, {info['cpu_count']} cores, "
          f"{info['duration_s']}s, load {info['load_at_start'][0]:.2f} -> "
          f"{info['load_at_end'][0]:.2f})\n")  # fmt: skip
    print(render_table(figures))
    print(f"\n{summary_line(figures)}; load = 1-min load average before -> after each figure")
    rules = list(dict.fromkeys(f.details["rule"] for f in figures if "rule" in f.details))
    if rules:
        print("\nRules:")
        for rule in rules:
            print(f"  - {rule}")
    for note in notes:
        print(f"note: {note}")
    print(f"\nwritten: {output}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)  # fmt: skip
    log.setLevel(logging.INFO)
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        return asyncio.run(main_async(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench interrupted; everything it started is stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
