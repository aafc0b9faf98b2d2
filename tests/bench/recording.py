"""Around every figure: wait for a quiet machine, note the load and the time before and after,
and turn a failure into a failed figure so that the run goes on."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.bench.machine import LoadAverage, load_average, wait_for_quiet
from tests.bench.plan import Plan
from tests.bench.report import FAILED, Figure

log = logging.getLogger("bench")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Group:
    """The figures one measurement produces (one or several rows of the table)."""

    key: str
    title: str
    database: str
    load_before: LoadAverage
    started_at: str
    figures: list[Figure] = field(default_factory=list)

    def add(self, key: str, title: str, value: float | None, unit: str, **fields: Any) -> Figure:
        figure = Figure(f"{self.key}/{key}" if key else self.key, title, value, unit, **fields)
        figure.database = figure.database or self.database
        self.figures.append(figure)
        return figure


class Recorder:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.figures: list[Figure] = []
        self.notes: list[str] = []

    @asynccontextmanager
    async def group(self, key: str, title: str, database: str) -> AsyncIterator[Group]:
        log.info("waiting for a quiet machine before %s", title)
        before = await wait_for_quiet(self.plan.quiet_load, self.plan.quiet_wait_s)
        log.info("measuring %s (load %.2f)", title, before[0])
        group = Group(key, title, database, before, utc_now())
        try:
            yield group
        except Exception as exc:
            log.warning("%s failed: %r", title, exc)
            error = f"{type(exc).__name__}: {exc}"
            failure = group.add("", title, None, "", status=FAILED, error=error)
            failure.details["traceback"] = traceback.format_exc(limit=8)
        except BaseException:
            group.add("", title, None, "", status=FAILED, error="interrupted")
            raise
        finally:
            after, finished = load_average(), utc_now()
            for figure in group.figures:
                figure.load_before, figure.load_after = before, after
                figure.started_at, figure.finished_at = group.started_at, finished
            self.figures.extend(group.figures)

    def fail(self, key: str, title: str, database: str, error: str) -> None:
        """A figure that could not even start (its stack failed)."""
        now, load = utc_now(), load_average()
        self.figures.append(
            Figure(key, title, None, "", status=FAILED, error=error, database=database,
                   load_before=load, load_after=load, started_at=now, finished_at=now)
        )  # fmt: skip
