"""The segmentation sweep over many due customers: time and peak memory.

    python -m tests.bench.sweep --customers 1000000

``measure_sweep(database_url, customers)`` migrates the (fresh, empty) database at
``database_url``, seeds ``customers`` members who are all due for review with one set-based
statement, then runs the service's ``segment-sweep`` task to completion in a child process
(``python -m tests.bench.sweep --child ...``) and reads the child's peak RSS. The command line
makes the fresh database itself: on the PostgreSQL server named by
``LOOPCRM_TEST_DATABASE_URL`` when it is set (dropped afterwards), else a SQLite file.

The seeded members mirror a day of reviews: 70% bought 2-21 days ago and are ``new`` (their
segment is settled: the review only moves recency), 20% never bought (``prospect``, settled
for good), 10% bought 30 days ago, reach the end of ``new`` and are re-evaluated in full
(each becomes ``regular`` and publishes one ``segment.changed``). Only member rows are
seeded: the sweep reads nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from services.segmentation.context import build_context
from services.segmentation.handlers import subscriptions
from services.segmentation.models import SegmentMember
from services.segmentation.settings import SegmentationSettings
from services.segmentation.tasks import segment_sweep
from shared.db import create_engine, create_session_factory, is_sqlite
from shared.migrations import upgrade_async
from shared.tables import outbox
from shared.transaction import TransactionFactory
from tests.support.databases import fresh_database

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "segmentation" / "migrations"
REPOSITORY = MIGRATIONS.parents[2]

# Columns shared by both dialects' seeds; each SELECT yields them in this order.
_COLUMNS = (
    "customer_id, segment, segment_since, recency_days, frequency, monetary_fen, evaluated_at, "
    "review_at, tags, settled_until, last_order_at, recent_orders, recent_complaints, monthly_net"
)

_SEED_POSTGRESQL = f"""
INSERT INTO segment_members ({_COLUMNS})
SELECT 'bench-' || lpad(g::text, 9, '0'),
       CASE WHEN kind = 'never' THEN 'prospect' ELSE 'new' END,
       now_at - interval '1 day',
       CASE WHEN kind = 'never' THEN NULL
            ELSE floor(extract(epoch FROM now_at - interval '1 day' - placed) / 86400)::int END,
       CASE WHEN kind = 'never' THEN 0 ELSE 1 END,
       CASE WHEN kind = 'never' THEN 0 ELSE 10000 END,
       now_at - interval '1 day',
       now_at - make_interval(secs => g % 3600),
       '[]',
       CASE WHEN kind = 'never' THEN NULL ELSE placed + interval '30 days' END,
       placed,
       CASE WHEN kind = 'never' THEN '[]'
            ELSE json_build_array(json_build_array(
                to_char(placed AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00',
                10000)) END,
       '[]',
       CASE WHEN kind = 'never' THEN '{{}}'
            ELSE json_build_object(to_char(placed AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'),
                                   10000) END
FROM (
    SELECT g, now_at, kind,
           CASE kind
               WHEN 'never' THEN NULL
               WHEN 'turning' THEN now_at - interval '30 days' - make_interval(secs => g % 43200)
               ELSE now_at - make_interval(days => 2 + g % 20, secs => g % 86400)
           END AS placed
    FROM (
        SELECT g, CAST(:now AS timestamptz) AS now_at,
               CASE WHEN g % 10 < 7 THEN 'settled' WHEN g % 10 < 9 THEN 'never'
                    ELSE 'turning' END AS kind
        FROM generate_series(1, :customers) AS g
    ) AS numbered
) AS seeded
"""

_SEED_SQLITE = f"""
WITH RECURSIVE numbers(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM numbers WHERE g < :customers),
kinds AS (
    SELECT g, CASE WHEN g % 10 < 7 THEN 'settled' WHEN g % 10 < 9 THEN 'never'
                   ELSE 'turning' END AS kind
    FROM numbers
),
seeded AS (
    SELECT g, kind,
           CASE kind
               WHEN 'never' THEN NULL
               WHEN 'turning' THEN datetime(:now, '-30 days', '-' || (g % 43200) || ' seconds')
               ELSE datetime(:now, '-' || (2 + g % 20) || ' days', '-' || (g % 86400) || ' seconds')
           END AS placed
    FROM kinds
)
INSERT INTO segment_members ({_COLUMNS})
SELECT 'bench-' || substr('000000000' || g, -9),
       CASE WHEN kind = 'never' THEN 'prospect' ELSE 'new' END,
       datetime(:now, '-1 day'),
       CASE WHEN kind = 'never' THEN NULL
            ELSE CAST((julianday(:now, '-1 day') - julianday(placed)) AS INTEGER) END,
       CASE WHEN kind = 'never' THEN 0 ELSE 1 END,
       CASE WHEN kind = 'never' THEN 0 ELSE 10000 END,
       datetime(:now, '-1 day'),
       datetime(:now, '-' || (g % 3600) || ' seconds'),
       '[]',
       CASE WHEN kind = 'never' THEN NULL ELSE datetime(placed, '+30 days') END,
       placed,
       CASE WHEN kind = 'never' THEN '[]'
            ELSE json_array(json_array(replace(placed, ' ', 'T') || '+00:00', 10000)) END,
       '[]',
       CASE WHEN kind = 'never' THEN '{{}}'
            ELSE json_object(strftime('%Y-%m', placed, '+8 hours'), 10000) END
FROM seeded
"""


async def measure_sweep(database_url: str, customers: int) -> dict[str, Any]:
    """Migrate and seed the database at ``database_url`` (fresh and empty), sweep it in a
    child process; the sweep's time and the child's peak RSS."""
    await upgrade_async(MIGRATIONS, database_url)
    seeding = time.perf_counter()
    await _seed(database_url, customers)
    seeded_s = time.perf_counter() - seeding
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.bench.sweep",
        "--child",
        "--database-url",
        database_url,
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the sweep child failed ({child.returncode})")
    swept = json.loads(out.decode().strip().splitlines()[-1])
    left, changes = await _outcome(database_url)
    seconds = swept["seconds"]
    return {
        "customers": customers,
        "seconds": round(seconds, 2),
        "per_second": round(customers / seconds) if seconds else None,
        "peak_rss_mib": swept["peak_rss_mib"],
        "database": make_url(database_url).get_backend_name(),
        "seed_seconds": round(seeded_s, 2),
        "still_due": left,
        "segment_changes": changes,
        "load_average": os.getloadavg(),
    }


async def _seed(database_url: str, customers: int) -> None:
    engine = create_engine(database_url)
    seed = _SEED_SQLITE if is_sqlite(database_url) else _SEED_POSTGRESQL
    now = NOW.replace(tzinfo=None).isoformat(sep=" ") if is_sqlite(database_url) else NOW
    # A table the service has been running on is vacuumed and analysed; a freshly seeded one
    # is neither, and its first reader would pay for setting every row's hint bits.
    tidy = (
        "ANALYZE segment_members" if is_sqlite(database_url) else "VACUUM ANALYZE segment_members"
    )
    try:
        async with engine.begin() as connection:
            await connection.execute(text(seed), {"now": now, "customers": customers})
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text(tidy))
    finally:
        await engine.dispose()


async def _outcome(database_url: str) -> tuple[int, int]:
    """How many members are still due, how many segment changes were published."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            due = select(func.count()).where(SegmentMember.review_at <= NOW)
            left = (await connection.execute(due)).scalar_one()
            changes = (await connection.execute(select(func.count()).select_from(outbox))).scalar()
    finally:
        await engine.dispose()
    return left, changes or 0


async def _sweep_in_this_process(database_url: str) -> dict[str, Any]:
    settings = SegmentationSettings(database_url=database_url, log_json=False)
    engine = create_engine(database_url)
    transactions = TransactionFactory(
        create_session_factory(engine),
        source=settings.event_source,
        publishes=subscriptions.publishes,
    )
    task = segment_sweep(build_context(settings), interval_s=60)
    try:
        started = time.perf_counter()
        await task.run(lambda: transactions.begin(NOW), NOW)
        seconds = time.perf_counter() - started
    finally:
        await engine.dispose()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_rss_mib": round(peak_kib / 1024, 1)}


async def _on_a_fresh_database(customers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="loopcrm-sweep-") as scratch:
        name = f"sweep_{uuid.uuid4().hex[:6]}"
        async with fresh_database(Path(scratch), name) as url:
            return await measure_sweep(url, customers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(asyncio.run(_sweep_in_this_process(args.database_url))), flush=True)
    else:
        print(json.dumps(asyncio.run(_on_a_fresh_database(args.customers)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
