"""Each service's OpenAPI document passes Redocly's recommended rules with 0 errors (warnings
allowed: the probes answer no 4xx, and the project names no licence). CI installs the linter
(`.ci/run`) and sets LOOPCRM_OPENAPI_LINT, so there the test runs or fails, never skips."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.harness import service_harness

SERVICES = ["profile", "segmentation", "engagement", "ticketing", "loyalty"]
ROOT = Path(__file__).resolve().parents[3]


def _linter() -> Path | None:
    given = os.environ.get("LOOPCRM_OPENAPI_LINT")
    candidate = Path(given) if given else ROOT / ".tools" / "node_modules" / ".bin" / "redocly"
    if candidate.exists():
        return candidate
    if given:
        pytest.fail(f"LOOPCRM_OPENAPI_LINT names {given}, which does not exist")
    return None


@pytest.mark.parametrize("service", SERVICES)
async def test_the_openapi_document_has_no_lint_errors(tmp_path: Path, service: str) -> None:
    linter = _linter()
    if linter is None:
        pytest.skip("Redocly CLI not installed (npm install --prefix .tools @redocly/cli)")
    async with service_harness(service, tmp_path) as harness:
        document = (await harness.client.get("/openapi.json")).json()
    path = tmp_path / f"{service}.json"
    path.write_text(json.dumps(document))
    done = await asyncio.to_thread(
        subprocess.run,
        [str(linter), "lint", str(path), "--format=summary"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
