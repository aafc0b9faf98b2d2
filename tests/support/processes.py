"""Services as real processes (``python -m services.<name>``), for crash and end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from shared.messaging.embedded_broker import free_port
from tests.support.services import DEV_KEY


class ServiceProcess:
    def __init__(
        self,
        name: str,
        *,
        bootstrap: str,
        database_url: str,
        log_dir: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self._log_path = log_dir / f"{name}.log"
        self._env = {
            **os.environ,
            "LOOPCRM_PORT": str(self.port),
            "LOOPCRM_KAFKA_BOOTSTRAP": bootstrap,
            "LOOPCRM_KAFKA_IDEMPOTENCE": "false",
            "LOOPCRM_DATABASE_URL": database_url,
            "LOOPCRM_DEV_API_KEY": DEV_KEY,
            "LOOPCRM_KAFKA_SESSION_TIMEOUT_MS": "2000",
            "LOOPCRM_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "LOOPCRM_OUTBOX_POLL_INTERVAL_MS": "50",
            **(extra_env or {}),
        }
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, ready_timeout: float = 30.0) -> ServiceProcess:
        with open(self._log_path, "ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self._log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"{self.name} not ready: {self._log_path.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()

    def stop(self) -> int | None:
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        return self._process.returncode
