"""How big each figure is: the full run (the issue's numbers) or the quick one (< 2 minutes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    quick: bool
    # 1. consumer throughput, one service alone
    consume_events: int
    consume_customers: int
    consume_timeout_s: float
    consume_poll_s: float
    # the whole stack
    warm_timeout_s: float
    # 2. storefront mix under the whole stack
    mix_rate: int
    mix_seconds: float
    mix_window_s: float
    mix_window_head_s: float
    mix_customers: int
    mix_drain_timeout_s: float
    lag_sample_s: float
    # 3. complaint latency
    complaint_samples: int
    complaint_timeout_s: float
    broker_latency_samples: int
    # 4. customer 360
    seed_customers: int
    seed_timeout_s: float
    open_loop_rate: int
    open_loop_s: float
    healthz_open_loop_s: float
    closed_loop_s: float
    closed_loop_connections: int
    # 5. at rest
    rest_settle_s: float
    rest_s: float
    # 6. segmentation sweep
    sweep_customers: int
    sweep_timeout_s: float
    # before every figure
    quiet_load: float
    quiet_wait_s: float

    @property
    def label(self) -> str:
        return "quick" if self.quick else "full"


FULL = Plan(
    quick=False,
    consume_events=20_000,
    consume_customers=2_000,
    consume_timeout_s=300,
    consume_poll_s=0.05,
    warm_timeout_s=60,
    mix_rate=1_000,
    mix_seconds=300,
    mix_window_s=240,
    mix_window_head_s=60,
    mix_customers=20_000,
    mix_drain_timeout_s=60,
    lag_sample_s=5,
    complaint_samples=100,
    complaint_timeout_s=10,
    broker_latency_samples=200,
    seed_customers=10_000,
    seed_timeout_s=600,
    open_loop_rate=200,
    open_loop_s=30,
    healthz_open_loop_s=10,
    closed_loop_s=10,
    closed_loop_connections=4,
    rest_settle_s=10,
    rest_s=60,
    sweep_customers=1_000_000,
    sweep_timeout_s=900,
    quiet_load=1.0,
    quiet_wait_s=60,
)

QUICK = Plan(
    quick=True,
    consume_events=12_000,  # three runs of 4,000: the rate is counted after the first
    consume_customers=1_200,
    consume_timeout_s=15,
    consume_poll_s=0.05,
    warm_timeout_s=15,
    mix_rate=200,
    mix_seconds=20,
    mix_window_s=15,
    mix_window_head_s=5,
    mix_customers=2_000,
    mix_drain_timeout_s=10,
    lag_sample_s=5,
    complaint_samples=20,
    complaint_timeout_s=5,
    broker_latency_samples=30,
    seed_customers=1_000,
    seed_timeout_s=60,
    open_loop_rate=200,
    open_loop_s=5,
    healthz_open_loop_s=3,
    closed_loop_s=3,
    closed_loop_connections=4,
    rest_settle_s=2,
    rest_s=10,
    sweep_customers=20_000,
    sweep_timeout_s=120,
    quiet_load=1.0,
    quiet_wait_s=0,
)
