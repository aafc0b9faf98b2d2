"""The bench's table and results.json on made-up figures (nothing is started)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench.figures.mix import judge
from tests.bench.report import FAILED, NOT_AVAILABLE, Figure, render_table, write_json
from tests.bench.stats import percentile


def fake_figures() -> list[Figure]:
    load = (0.4, 0.5, 0.6)
    return [
        Figure("consume/loyalty/order.placed", "1 consume loyalty order.placed", 6123.4, "ev/s",
               baseline=41000.0, baseline_label="bare aiokafka", goal=">= 5,000 ev/s",
               passed=True, database="postgresql", load_before=load, load_after=load),
        Figure("rest/total", "5 at rest: total CPU", 14.2, "% core", goal="<= 10 % core",
               passed=False, database="sqlite", note="60s window"),
        Figure("customer360", "4 customer 360", None, "", status=FAILED,
               error="RuntimeError: needs profile\nlog tail: ...", database="sqlite"),
        Figure("sweep", "6 segmentation sweep", None, "", status=NOT_AVAILABLE,
               error="not available", database="postgresql"),
    ]  # fmt: skip


def test_the_table_shows_each_figure_beside_its_baseline_and_result() -> None:
    table = render_table(fake_figures())
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["figure", "db", "value"]
    loyalty = next(line for line in lines if "loyalty" in line)
    assert "6,123 ev/s" in loyalty and "41,000 (bare aiokafka)" in loyalty and "PASS" in loyalty
    assert "FAIL" in next(line for line in lines if "at rest" in line)
    failed = next(line for line in lines if "customer 360" in line)
    assert "ERROR" in failed and "needs profile" in failed and "log tail" not in failed
    assert "n/a" in next(line for line in lines if "sweep" in line)


def test_results_json_holds_every_figure_with_its_baseline_load_and_result(tmp_path: Path) -> None:
    path = tmp_path / "bench" / "results.json"
    write_json(path, {"database": "postgresql", "quick": True}, fake_figures())
    document = json.loads(path.read_text())
    assert document["run"] == {"database": "postgresql", "quick": True}
    first = document["figures"][0]
    assert first["baseline"] == 41000.0 and first["passed"] is True
    assert first["load_before"] == [0.4, 0.5, 0.6] and first["result"] == "PASS"
    assert [f["result"] for f in document["figures"]] == ["PASS", "FAIL", "ERROR", "n/a"]
    assert document["summary"] == "1 PASS, 1 FAIL, 1 ERROR, 1 n/a"


def test_lag_is_bounded_unless_it_grows_over_the_window_or_ends_high() -> None:
    steady = [(t, 300.0) for t in range(5, 45, 5)]
    assert judge(steady, 40, 30, 10, rate=200).bounded
    growing = [(t, 100.0 * t) for t in range(5, 45, 5)]
    verdict = judge(growing, 40, 30, 10, rate=200)
    assert not verdict.bounded and verdict.limit == 3_000.0
    assert not judge([*steady[:-1], (40, 1_500.0)], 40, 30, 10, rate=200).bounded
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
