"""The ``loopcrm`` command line against real parts: a broker, service processes, databases."""

from __future__ import annotations

import asyncio
import json
import os
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


async def test_dlq_list_and_replay_a_real_dead_letter(broker, service) -> None:  # type: ignore[no-untyped-def]
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    customer_id = new_id("c")
    poison = {
        "specversion": "1.0",
        "id": new_id("e"),
        "source": "storefront",
        "type": "order.placed",
        "time": "2026-06-01T10:00:00+08:00",
        "subject": customer_id,
        "data": {"customer_id": customer_id, "order_id": "o-1", "amount": "-1", "items": []},
    }
    value = json.dumps(poison).encode()
    headers = [("content-type", b"application/cloudevents+json"), ("x-request", b"r-1")]
    bootstrap = ("--bootstrap", broker.bootstrap)

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(loopcrm, *args)

    async with service("loyalty"):
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=False)
        await producer.start()
        try:
            await producer.send_and_wait(
                "order.placed", value, key=customer_id.encode(), headers=headers
            )
        finally:
            await producer.stop()

        for _ in range(300):
            listed = await run("dlq", "list", "order.placed", *bootstrap)
            if "1 dead letters" in listed.stdout:
                break
            await asyncio.sleep(0.1)
        assert listed.returncode == 0 and "1 dead letters" in listed.stdout, listed.stdout
        assert "invalid_data" in listed.stdout

        dry = await run("dlq", "replay", "order.placed", "--dry-run", *bootstrap)
        assert "1 dead letters would go back" in dry.stdout
        sent = await run("dlq", "replay", "order.placed", *bootstrap)
        assert sent.returncode == 0 and "1 dead letters sent back" in sent.stdout

    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = [
            TopicPartition("order.placed", p) for p in consumer.partitions_for_topic("order.placed")
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        copies = []
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=500)
            copies += [r for records in batch.values() for r in records if r.value == value]
            if len(copies) == 2:
                break
    finally:
        await consumer.stop()
    original, replayed = copies
    assert replayed.key == original.key == customer_id.encode()
    assert list(replayed.headers) == headers  # as the storefront sent it, no dlq-* headers


def test_migrate_brings_every_service_database_to_its_latest_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    env_var = {"LOOPCRM_VAR_DIR": str(tmp_path / "var"), "LOOPCRM_DATABASE_URL": ""}
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env_var},
    )
    assert done.returncode == 0, done.stderr
    for name in ("profile", "segmentation", "engagement", "ticketing", "loyalty"):
        with sqlite3.connect(tmp_path / "var" / f"{name}.db") as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert {"alembic_version", "inbox", "outbox"} <= tables, name
    assert loopcrm("migrate", "billing").returncode == 2


def test_customer_shows_what_each_service_knows(broker, profile) -> None:  # type: ignore[no-untyped-def]
    customer_id = new_id("c")
    data = json.dumps({"customer_id": customer_id, "name": "Wang Fang"})
    emitted = loopcrm(
        "emit", "customer.registered", "--data", data, "--bootstrap", broker.bootstrap
    )
    assert emitted.returncode == 0, emitted.stderr
    elsewhere = [f"--url={n}=http://127.0.0.1:9" for n in ("segmentation", "engagement")]
    elsewhere += [f"--url={n}=http://127.0.0.1:9" for n in ("ticketing", "loyalty")]
    addresses = ["--url", f"profile={profile.url}", *elsewhere, "--key", DEV_KEY]
    for _ in range(300):
        shown = loopcrm("customer", customer_id, *addresses)
        if shown.returncode == 0:
            break
        time.sleep(0.1)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "Wang Fang" in shown.stdout and "unreachable" in shown.stdout

    stranger = loopcrm("customer", new_id("c"), *addresses)
    assert stranger.returncode == 1 and "never heard of this customer" in stranger.stdout
    assert loopcrm("customer", customer_id, "--key", "").returncode == 2


def test_alembic_runs_each_services_migrations_by_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3
    from pathlib import Path

    ini = Path(__file__).resolve().parents[2] / "alembic.ini"
    database = tmp_path / "engagement.db"
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ini), "-n", "engagement", "upgrade", "head"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "LOOPCRM_DATABASE_URL": f"sqlite+aiosqlite:///{database}"},
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(database) as db:
        [version] = db.execute("SELECT version_num FROM alembic_version").fetchone()
        columns = {row[1] for row in db.execute("PRAGMA table_info(customers)")}
    assert version == "0002" and "playbook_entries" in columns
