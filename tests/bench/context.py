"""What every figure is given: the plan, the recorder, the processes, a scratch directory and
the PostgreSQL server (if any)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.databases import Databases
from tests.bench.plan import Plan
from tests.bench.processes import Processes
from tests.bench.recording import Recorder

SQLITE, POSTGRESQL = "sqlite", "postgresql"


@dataclass
class BenchContext:
    plan: Plan
    recorder: Recorder
    processes: Processes
    workdir: Path
    server_url: str | None
    _databases: list[Databases] = field(default_factory=list)

    @property
    def primary_database(self) -> str:
        return POSTGRESQL if self.server_url else SQLITE

    @property
    def database_kinds(self) -> list[str]:
        """The whole stack runs on both databases; the quick run only on the primary one."""
        if self.plan.quick or not self.server_url:
            return [self.primary_database]
        return [POSTGRESQL, SQLITE]

    def scratch(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def databases(self, kind: str, name: str) -> Databases:
        server = self.server_url if kind == POSTGRESQL else None
        databases = Databases(server, self.scratch(name) / "db")
        self._databases.append(databases)
        return databases

    async def drop(self, databases: Databases) -> None:
        left = await databases.drop_all()
        if left:
            self.recorder.notes.append(f"could not drop databases: {', '.join(left)}")

    async def drop_everything(self) -> None:
        """The last word: every database still there (a figure interrupted before its drop)."""
        for databases in self._databases:
            await self.drop(databases)
