"""`loopcrm up` as a user runs it: all five services ready, then Ctrl-C leaves nothing behind."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from shared.messaging.embedded_broker import free_port
from shared.registry import SERVICE_PORTS

pytestmark = pytest.mark.e2e


def _children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            child = int(status.parent.name)
            found |= {child, *_children_of(child)}
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = (
        Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else ""
    )
    return state != "Z"


def _demo_and_status(output: str, env: dict[str, str]) -> None:
    """The newcomer's path: `loopcrm demo` fills the stack, `loopcrm status` sees it settle."""
    broker = re.search(r"^  broker\s+(\S+)$", output, re.MULTILINE)
    assert broker, output
    cli = [sys.executable, "-m", "shared.cli"]
    demo = subprocess.run(
        [
            *cli,
            *("demo", "--customers", "30", "--days", "30", "--rate", "5000", "--seed", "7"),
            *("--bootstrap", broker.group(1), "--key", "e2e-dev-key-123456"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    for line in ("customers by segment", "customers by tier", "points outstanding"):
        assert line in demo.stdout, demo.stdout
    # Every customer is counted once the stack has settled: the summary waits for that.
    for row in ("customers by segment", "customers by tier"):
        counts = re.search(rf"{row}\W+([a-z_ \d,]+)", demo.stdout)
        assert counts, demo.stdout
        assert sum(int(n) for n in re.findall(r"\d+", counts.group(1))) == 30, demo.stdout
    status = subprocess.run([*cli, "status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    assert status.stdout.count("ready") >= 5, status.stdout


def test_up_starts_every_service_and_ctrl_c_stops_them_all(tmp_path):
    ports = {name: free_port() for name in SERVICE_PORTS}
    env = {
        **os.environ,
        **{f"LOOPCRM_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "LOOPCRM_DEV_API_KEY": "e2e-dev-key-123456",
    }
    env.pop("LOOPCRM_KAFKA_BOOTSTRAP", None)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "up", "--var-dir", str(tmp_path / "var")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ""
    try:
        deadline = time.monotonic() + 60
        while "loopcrm is up" not in output:
            assert launcher.poll() is None, output
            assert time.monotonic() < deadline, output
            output += launcher.stdout.readline()
        for _ in range(8):
            output += launcher.stdout.readline()
        assert "e2e-dev-key-123456" in output
        for port in ports.values():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                assert r.status == 200
        _demo_and_status(output, env)
        descendants = _children_of(launcher.pid)
        assert len(descendants) >= 6  # five services and the broker

        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(timeout=40) == 0
        time.sleep(0.2)
        assert [pid for pid in descendants if _alive(pid)] == []
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
