"""Token buckets per API key: ``rate`` tokens a second, up to ``burst`` saved up. In memory, per
process (each replica admits its own share)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, tokens: float = 1.0) -> float:
        """Take ``tokens`` from ``key``'s bucket: 0 when taken, else the seconds to wait before
        they would be there (nothing is taken then). More than ``burst`` at once is never
        admitted whole: it waits as if for ``burst``, the caller should send less at once."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if tokens <= bucket.tokens:
            bucket.tokens -= tokens
            return 0.0
        return (min(tokens, self._burst) - bucket.tokens) / self._rate

    @staticmethod
    def retry_after(wait_s: float) -> str:
        """A ``Retry-After`` value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait_s)))
