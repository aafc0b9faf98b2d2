"""Retry delays: doubling from a first delay up to a cap."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    initial_s: float
    maximum_s: float

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` consecutive failures (1 -> initial, 2 -> double, ...);
        an outage of any length keeps the cap (the doubling stops before a float overflows)."""
        return float(min(self.initial_s * 2 ** min(max(failures - 1, 0), 64), self.maximum_s))
