"""Figure 2: the storefront mix under the whole stack. A separate process produces, open-loop
paced (linger 100 ms), 70 % product.viewed, 20 % order.placed, 5 % order.refunded (of earlier
orders), 5 % customer.registered over the customer population; every service's total consumer
lag (sum of loopcrm_consumer_lag) is sampled every 5 s. Complaint-latency samples run
meanwhile (figure 3 under load)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.context import BenchContext
from tests.bench.figures import complaint
from tests.bench.load import mix_command, started_marker
from tests.bench.metrics import OUTBOX_BACKLOG
from tests.bench.processes import Child
from tests.bench.recording import Group
from tests.bench.report import FAILED
from tests.bench.settle import snapshots, wait_caught_up
from tests.bench.stack import Stack
from tests.bench.stats import percentile

REPO_ROOT = Path(__file__).resolve().parents[3]
FLOOR_S, END_S, GROWTH = 2.0, 5.0, 1.5
MIN_SEND_SHARE = 0.95


def rule(rate: float, seconds: float, window: float, head: float) -> str:
    return (
        f"2 mix: {rate:.0f} events/s for {seconds:.0f}s, lag = sum of loopcrm_consumer_lag per "
        f"service sampled every 5 s. A service's lag is bounded when, over the last "
        f"{window:.0f}s, max lag <= max({FLOOR_S * rate:,.0f} [{FLOOR_S:.0f}s of traffic], "
        f"{GROWTH} x max lag in the first {head:.0f}s of that window) and the lag at the end of "
        f"sending <= {END_S * rate:,.0f} [{END_S:.0f}s of traffic]. Pass when every service is "
        f"bounded, all five run, and the achieved send rate >= {MIN_SEND_SHARE:.0%} of target."
    )


@dataclass
class LagSample:
    at_s: float
    lag: dict[str, float | None]
    finished: dict[str, float | None]
    outbox: dict[str, float | None]
    dead_lettered: dict[str, float | None]


@dataclass
class Verdict:
    bounded: bool
    max_lag: float | None
    final_lag: float | None
    window_max: float | None
    head_max: float | None
    limit: float | None
    consumed_per_s: float | None = None
    reasons: list[str] = field(default_factory=list)


def judge(
    series: list[tuple[float, float | None]],
    seconds: float,
    window: float,
    head: float,
    rate: float,
) -> Verdict:
    """Apply the bound (see ``rule``) to one service's (seconds since start, lag) samples."""
    known = [(t, lag) for t, lag in series if lag is not None]
    in_window = [lag for t, lag in known if t > seconds - window]
    in_head = [lag for t, lag in known if seconds - window < t <= seconds - window + head]
    final = series[-1][1] if series else None
    verdict = Verdict(
        bounded=True,
        max_lag=max((lag for _, lag in known), default=None),
        final_lag=final,
        window_max=max(in_window, default=None),
        head_max=max(in_head, default=None),
        limit=None,
    )
    if len(known) < len(series):
        verdict.reasons.append(f"{len(series) - len(known)} samples unreadable")
    if verdict.window_max is None or verdict.head_max is None or final is None:
        verdict.bounded = False
        verdict.reasons.append("no lag readings in the window or at the end")
        return verdict
    verdict.limit = max(FLOOR_S * rate, GROWTH * verdict.head_max)
    if verdict.window_max > verdict.limit:
        verdict.bounded = False
        verdict.reasons.append(f"grew: {verdict.window_max:,.0f} > {verdict.limit:,.0f}")
    if final > END_S * rate:
        verdict.bounded = False
        verdict.reasons.append(f"final {final:,.0f} > {END_S * rate:,.0f}")
    return verdict


async def measure(bench: BenchContext, stack: Stack, complaint_baseline: float | None) -> None:
    plan = bench.plan
    kind = stack.databases.kind
    async with bench.recorder.group(f"mix/{kind}", f"2 mix {kind}", kind) as group:
        scratch = bench.scratch(f"mix-{kind}")
        result_path = scratch / "mix-result.json"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
            str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}  # fmt: skip
        argv = mix_command(sys.executable, stack.broker.bootstrap, plan.mix_rate,
                           plan.mix_seconds, plan.mix_customers, result_path)  # fmt: skip
        with_complaints = "ticketing" in stack.services and "engagement" in stack.services
        if with_complaints and complaint_baseline is None:
            trips = await complaint.broker_round_trips(stack.broker.bootstrap, 30)
            complaint_baseline = percentile(trips, 50)
        producer = bench.processes.spawn("mix", argv, env, scratch / "mix.log")
        complaints: asyncio.Task[list[complaint.ComplaintSample]] | None = None
        outcome: list[complaint.ComplaintSample] | BaseException = []
        try:
            await _wait_started(producer, result_path)
            loop = asyncio.get_running_loop()
            started = loop.time()
            if with_complaints:
                complaints = asyncio.create_task(
                    complaint.run_samples(stack, None, plan.complaint_timeout_s,
                                          until=started + plan.mix_seconds, pause_s=0.5)
                )  # fmt: skip
            samples = await _sample_lag(stack, started, plan.mix_seconds, plan.lag_sample_s)
            await _wait_exit(producer, timeout=60)
            drained, drain_s = await wait_caught_up(stack.services, plan.mix_drain_timeout_s)
            if complaints is not None:
                outcome = (await asyncio.gather(complaints, return_exceptions=True))[0]
        finally:
            if complaints is not None and not complaints.done():
                complaints.cancel()
            bench.processes.stop([producer])
        if not result_path.exists():
            raise RuntimeError(f"the mix producer wrote no result: {producer.log_tail()}")
        sent = json.loads(result_path.read_text())
        _add_figures(group, bench, stack, sent, samples, drained, drain_s)
        if isinstance(outcome, BaseException):
            error = f"{type(outcome).__name__}: {outcome}"
            group.add("complaint", "3 complaint under mix", None, "", status=FAILED, error=error)
        elif complaints is not None:
            complaint.add_figures(group, outcome, complaint_baseline, under_load=True)


async def _wait_started(producer: Child, result_path: Path, timeout: float = 60.0) -> None:
    marker = started_marker(result_path)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not marker.exists():
        if not producer.alive():
            raise RuntimeError(f"the mix producer exited: {producer.log_tail()}")
        if loop.time() > deadline:
            raise TimeoutError(f"the mix producer did not start within {timeout}s")
        await asyncio.sleep(0.05)


async def _wait_exit(producer: Child, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while producer.alive():
        if loop.time() > deadline:
            raise TimeoutError(f"the mix producer still sending {timeout}s after its end")
        await asyncio.sleep(0.1)
    if producer.process.returncode != 0:
        raise RuntimeError(f"the mix producer failed: {producer.log_tail()}")


async def _sample_lag(
    stack: Stack, started: float, seconds: float, every: float
) -> list[LagSample]:
    loop = asyncio.get_running_loop()
    samples: list[LagSample] = []
    at = every
    while at <= seconds + 1e-6:
        await asyncio.sleep(max(0.0, started + at - loop.time()))
        state = await snapshots(stack.services)
        samples.append(
            LagSample(
                at_s=round(loop.time() - started, 2),
                # No lag series at all: the consumer has no partitions (it is not consuming).
                lag={name: snap.lag() if snap and snap.lag_series() else None
                     for name, snap in state.items()},
                finished={name: snap.finished() if snap else None for name, snap in state.items()},
                outbox={name: snap.total(OUTBOX_BACKLOG) if snap else None
                        for name, snap in state.items()},
                dead_lettered={name: snap.consumed(outcome="dead_lettered") if snap else None
                               for name, snap in state.items()},
            )
        )  # fmt: skip
        at += every
    return samples


def _consumed_rate(samples: list[LagSample], name: str) -> float | None:
    points = [(s.at_s, v) for s in samples if (v := s.finished.get(name)) is not None]
    if len(points) < 2 or points[-1][0] <= points[0][0]:
        return None
    return (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0])


def _add_figures(
    group: Group,
    bench: BenchContext,
    stack: Stack,
    sent: dict[str, Any],
    samples: list[LagSample],
    drained: dict[str, bool],
    drain_s: float,
) -> None:
    plan = bench.plan
    rate, window, head = plan.mix_rate, plan.mix_window_s, plan.mix_window_head_s
    text = rule(rate, plan.mix_seconds, window, head)
    verdicts: dict[str, Verdict] = {}
    for name in stack.services:
        series = [(s.at_s, s.lag.get(name)) for s in samples]
        verdicts[name] = judge(series, plan.mix_seconds, window, head, rate)
        verdicts[name].consumed_per_s = _consumed_rate(samples, name)
        dead = max((s.dead_lettered.get(name) or 0 for s in samples), default=0)
        if dead:
            verdicts[name].bounded = False
            verdicts[name].reasons.append(f"{dead:,.0f} events dead-lettered")
    achieved = float(sent["achieved_rate"])
    missing = sorted(stack.failed)
    reasons = [f"{name}: {'; '.join(v.reasons)}" for name, v in verdicts.items() if not v.bounded]
    if achieved < MIN_SEND_SHARE * rate:
        reasons.append(f"sent only {achieved:,.0f}/s")
    if sent.get("failed"):
        reasons.append(f"{sent['failed']} sends failed")
    if missing:
        reasons.append(f"NOT RUNNING: {', '.join(missing)}")
    lags = ", ".join(
        f"{name[:4]} {_n(v.max_lag)}/{_n(v.final_lag)}" for name, v in verdicts.items()
    )
    group.add(
        "send_rate",
        f"2 mix {stack.databases.kind}: send rate",
        achieved,
        "ev/s",
        baseline=float(rate),
        baseline_label="target",
        goal="all lags bounded",
        passed=not reasons,
        note=("; ".join(reasons) + " | " if reasons else "") + f"max/final lag: {lags}",
        details={
            "rule": text,
            "producer": sent,
            "verdicts": {name: v.__dict__ for name, v in verdicts.items()},
            "drained_after_s": round(drain_s, 2),
            "drained": drained,
            "missing": missing,
            "samples": [s.__dict__ for s in samples],
        },
    )
    for name, v in verdicts.items():
        group.add(
            f"lag/{name}",
            f"2 mix {stack.databases.kind}: {name} max lag",
            v.max_lag,
            "events",
            baseline=v.limit,
            baseline_label="window limit",
            goal="bounded",
            passed=v.bounded,
            note=f"final {_n(v.final_lag)}, window max {_n(v.window_max)}, "
            f"consumed {_n(v.consumed_per_s)}/s"
            + (f" ({'; '.join(v.reasons)})" if v.reasons else ""),
        )


def _n(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"
