"""Every process the bench starts: its own process group, dies with the bench (PDEATHSIG),
and ``Processes.stop_all`` ends every group it started, whatever happened before."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.launcher import die_with_parent


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Processes:
    """Every process the bench starts. Start them from the main thread only: PDEATHSIG
    fires when the *thread* that forked the child ends."""

    def __init__(self) -> None:
        self._children: list[Child] = []
        self.started: list[tuple[str, int]] = []

    def spawn(self, name: str, argv: Sequence[str], env: dict[str, str], log_path: Path) -> Child:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                list(argv),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        child = Child(name, process, log_path)
        self._children.append(child)
        self.started.append((name, process.pid))
        return child

    def stop(self, children: Iterable[Child], timeout: float = 10.0) -> None:
        """SIGTERM each child's group, wait, then SIGKILL what is left."""
        children = list(children)
        for child in children:
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(child, signal.SIGKILL)
            if child.process.poll() is None:
                child.process.wait()
        self._children = [c for c in self._children if c not in children]

    def stop_all(self) -> None:
        self.stop(list(reversed(self._children)))

    @property
    def running(self) -> list[Child]:
        return [child for child in self._children if child.alive()]


def _signal_group(child: Child, signum: int) -> None:
    # The group outlives its leader if the leader forked; signal it even after the leader ended.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signum)
