"""/readyz says ready only when the service can do its work: a broker that answers (not one
that only accepts connections) and consumers that have joined their group."""

from __future__ import annotations

import os
import signal

from shared.messaging.broker_check import broker_state
from tests.support.polling import eventually


async def _readiness(client):
    answer = await client.get("/readyz")
    return answer.status_code, answer.json()["checks"]


async def test_ready_once_the_consumers_have_joined_their_group(broker, service):
    async with service("ticketing") as ticketing:
        _, checks = await eventually(
            lambda: _readiness(ticketing.client), lambda found: found[0] == 200, timeout=30
        )
        assert checks == {
            "database": "ok",
            "broker": "ok",
            "consumer": "ok",
            "consumer_progress": "ok",
        }
        consumers = ticketing.app.state.runtime.consumers
        assert all(consumer.joined.is_set() for consumer in consumers)


async def test_a_frozen_broker_is_not_ready_and_a_thawed_one_is(broker, service):
    assert await broker_state(broker.bootstrap) == "ok"
    async with service("ticketing") as ticketing:
        await eventually(lambda: _readiness(ticketing.client), lambda found: found[0] == 200)
        os.kill(broker.pid, signal.SIGSTOP)
        try:
            assert await broker_state(broker.bootstrap, timeout=0.5) == "not answering"
            status, checks = await _readiness(ticketing.client)
            assert status == 503
            assert checks["broker"] == "not answering"
        finally:
            os.kill(broker.pid, signal.SIGCONT)
        await eventually(lambda: _readiness(ticketing.client), lambda found: found[0] == 200)


async def test_a_broker_that_is_gone_is_unreachable(broker):
    broker.stop()
    assert await broker_state(broker.bootstrap) == "unreachable"
