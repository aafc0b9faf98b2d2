"""A long loop of pure work taken in turns lets the rest of the service run meanwhile."""

from __future__ import annotations

import asyncio

from shared.turns import in_turns


async def test_others_run_between_turns_not_after_the_whole_loop() -> None:
    seen: list[int] = []
    ran_after: list[int] = []

    async def request() -> None:
        ran_after.append(len(seen))

    waiting = asyncio.create_task(request())
    async for item in in_turns(range(100), every=10):
        seen.append(item)
    await waiting
    assert seen == list(range(100))
    assert ran_after == [10]


async def test_a_short_loop_takes_no_turn() -> None:
    ran: list[bool] = []

    async def request() -> None:
        ran.append(True)

    waiting = asyncio.create_task(request())
    assert [item async for item in in_turns("abc", every=10)] == ["a", "b", "c"]
    assert not ran
    await waiting
