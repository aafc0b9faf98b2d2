"""Long stretches of pure work taken in turns with the event loop.

A service is one event loop: its API, its consumers, its relay and its periodic tasks take
turns at every ``await``. A run of thousands of events, or a sweep's chunk of a thousand
customers, is mostly work between two awaits (decoding, evaluating, encoding: a tenth of a
millisecond per customer), and every request that arrives meanwhile waits for all of it: a
sweep of ten thousand overdue customers held the customer 360's p99 at 100-300 ms. Going
through such a loop ``in_turns`` lets the loop serve others every few milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

T = TypeVar("T")

TURN = 16
"""Items between two turns: a few milliseconds of the heaviest per-item work (a customer's
evaluation), while a turn itself costs microseconds."""


async def in_turns(items: Iterable[T], every: int = TURN) -> AsyncIterator[T]:
    """``items`` one by one, letting the event loop run others after every ``every``."""
    for index, item in enumerate(items):
        if index and index % every == 0:
            await asyncio.sleep(0)
        yield item
