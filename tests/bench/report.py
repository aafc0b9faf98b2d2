"""The figures of a run: one record per figure, printed as a table and written as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OK, FAILED, NOT_AVAILABLE = "ok", "failed", "not available"


@dataclass
class Figure:
    key: str
    title: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    goal: str = ""
    passed: bool | None = None
    status: str = OK
    error: str | None = None
    database: str = ""
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    load_before: tuple[float, float, float] | None = None
    load_after: tuple[float, float, float] | None = None
    started_at: str = ""
    finished_at: str = ""

    @property
    def result(self) -> str:
        if self.status == NOT_AVAILABLE:
            return "n/a"
        if self.status != OK:
            return "ERROR"
        if self.passed is None:
            return "-"
        return "PASS" if self.passed else "FAIL"


def format_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".rstrip()


def _load(load: tuple[float, float, float] | None) -> str:
    return "-" if load is None else f"{load[0]:.2f}"


def render_table(figures: Sequence[Figure]) -> str:
    header = ("figure", "db", "value", "baseline", "goal", "result", "load", "note")
    rows = [header]
    for f in figures:
        baseline = format_number(f.baseline, f.unit if not f.baseline_label else "")
        if f.baseline is not None and f.baseline_label:
            baseline = f"{baseline} ({f.baseline_label})"
        rows.append(
            (
                f.title,
                f.database,
                format_number(f.value, f.unit),
                baseline,
                f.goal or "-",
                f.result,
                f"{_load(f.load_before)}->{_load(f.load_after)}",
                f.note if f.status == OK else _first_line(f.error or f.status),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  ----")
    return "\n".join(lines)


def _first_line(text: str, limit: int = 110) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def summary_line(figures: Sequence[Figure]) -> str:
    results = [f.result for f in figures]
    counts = {name: results.count(name) for name in ("PASS", "FAIL", "ERROR", "n/a", "-")}
    return ", ".join(f"{count} {name}" for name, count in counts.items() if count) or "no figures"


def write_json(path: Path, run: dict[str, Any], figures: Sequence[Figure]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "run": run,
        "summary": summary_line(figures),
        "figures": [asdict(f) | {"result": f.result} for f in figures],
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, default=str) + "\n")
    temporary.replace(path)
