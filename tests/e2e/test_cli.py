"""The ``loopcrm`` command line against real parts: a broker and a service process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from shared.migrations import upgrade_async
from tests.support.builders import new_id
from tests.support.processes import ServiceProcess
from tests.support.services import DEV_KEY, service_parts


def loopcrm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def profile(broker, database, tmp_path) -> Iterator[ServiceProcess]:  # type: ignore[no-untyped-def]
    loop = asyncio.new_event_loop()
    databases = database("profile")
    url = loop.run_until_complete(databases.__aenter__())
    loop.run_until_complete(upgrade_async(service_parts("profile")[2], url))
    process = ServiceProcess(
        "profile", bootstrap=broker.bootstrap, database_url=url, log_dir=tmp_path
    )
    try:
        yield process.start()
    finally:
        process.stop()
        loop.run_until_complete(databases.__aexit__(None, None, None))
        loop.close()


def test_version_and_help() -> None:
    version = loopcrm("--version")
    assert version.returncode == 0 and version.stdout.startswith("loopcrm ")
    listed = loopcrm("--help")
    assert listed.returncode == 0
    for command in ("up", "topics", "emit", "status"):
        assert f"  {command} " in listed.stdout


def test_emit_publishes_one_checked_event_that_the_services_handle(broker, profile) -> None:  # type: ignore[no-untyped-def]
    customer_id = new_id("c")
    data = json.dumps({"customer_id": customer_id, "name": "Li Wei", "consents": {"sms": True}})
    sent = loopcrm("emit", "customer.registered", "--data", data, "--bootstrap", broker.bootstrap)
    assert sent.returncode == 0, sent.stderr
    assert "customer.registered" in sent.stdout

    headers = {"Authorization": f"Bearer {DEV_KEY}"}
    with httpx.Client(base_url=profile.url, headers=headers, timeout=5) as client:
        for _ in range(300):
            answer = client.get(f"/v1/customers/{customer_id}")
            if answer.status_code == 200:
                break
            time.sleep(0.1)
        assert answer.status_code == 200 and answer.json()["name"] == "Li Wei"

    bad = loopcrm("emit", "order.placed", "--data", '{"customer_id": "c-1"}')
    assert bad.returncode == 2
    assert "order_id" in bad.stderr and "amount" in bad.stderr
    unknown = loopcrm("emit", "order.shipped", "--data", "{}")
    assert unknown.returncode == 2


def test_status_reads_each_services_readiness_and_lag(profile) -> None:  # type: ignore[no-untyped-def]
    # Profile is up; the other four are not running on these addresses.
    answer = loopcrm(
        "status",
        "--timeout",
        "1",
        "--url",
        f"profile={profile.url}",
        *(f"--url={name}=http://127.0.0.1:9" for name in ("segmentation", "engagement")),
        *(f"--url={name}=http://127.0.0.1:9" for name in ("ticketing", "loyalty")),
    )
    assert answer.returncode == 1, answer.stdout
    rows = {line.split("│")[1].strip(): line for line in answer.stdout.splitlines() if "│" in line}
    assert "ready" in rows["profile"] and "unreachable" in rows["loyalty"]
