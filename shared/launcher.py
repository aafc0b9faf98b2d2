"""``loopcrm up``: the embedded broker and the five services as separate processes.

Every child is started in its own session and stopped by this process, in reverse order,
on Ctrl-C or SIGTERM; on Linux a child also dies with this process if it is killed outright.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

from shared.child_processes import die_with_parent
from shared.messaging.embedded_broker import EmbeddedBroker, free_port
from shared.messaging.topics import ensure_topics
from shared.registry import SERVICE_PORTS

# With the embedded broker a first join waits about half the session timeout: keep it short.
EMBEDDED_SESSION_TIMEOUT_MS = 6000
EMBEDDED_HEARTBEAT_INTERVAL_MS = 2000


def _port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Launcher:
    def __init__(self, var_dir: str = "var", ready_timeout: float = 60.0) -> None:
        self._var = Path(var_dir).resolve()
        self._logs = self._var / "logs"
        self._ready_timeout = ready_timeout
        self._broker: EmbeddedBroker | None = None
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._stop_requested = False

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGTERM, self._request_stop)
        self._logs.mkdir(parents=True, exist_ok=True)
        try:
            bootstrap = self._start_broker()
            asyncio.run(ensure_topics(bootstrap))
            dev_key = os.environ.get("LOOPCRM_DEV_API_KEY") or secrets.token_urlsafe(24)
            for name, port in SERVICE_PORTS.items():
                self._start_service(name, port, bootstrap, dev_key)
            if not self._wait_until_ready():
                return 0 if self._stop_requested else 1
            self._print_banner(bootstrap, dev_key)
            return self._supervise()
        finally:
            self._stop_all()

    def _request_stop(self, signum: int, _frame: FrameType | None) -> None:
        self._stop_requested = True

    def _start_broker(self) -> str:
        external = os.environ.get("LOOPCRM_KAFKA_BOOTSTRAP")
        if external:
            print(f"using the broker at {external}")
            return external
        port = 9092 if _port_is_free(9092) else free_port()
        self._broker = EmbeddedBroker(port, log_path=self._logs / "broker.log").start()
        print(f"embedded broker on {self._broker.bootstrap}")
        return self._broker.bootstrap

    def _start_service(self, name: str, port: int, bootstrap: str, dev_key: str) -> None:
        embedded = self._broker is not None
        env = {
            **os.environ,
            "LOOPCRM_PORT": os.environ.get(f"LOOPCRM_{name.upper()}_PORT", str(port)),
            "LOOPCRM_KAFKA_BOOTSTRAP": bootstrap,
            "LOOPCRM_DEV_API_KEY": dev_key,
            "LOOPCRM_VAR_DIR": str(self._var),
        }
        if embedded:
            # The embedded broker rejects InitProducerId; a short session keeps joins quick.
            env.setdefault("LOOPCRM_KAFKA_IDEMPOTENCE", "false")
            env.setdefault("LOOPCRM_KAFKA_SESSION_TIMEOUT_MS", str(EMBEDDED_SESSION_TIMEOUT_MS))
            env.setdefault(
                "LOOPCRM_KAFKA_HEARTBEAT_INTERVAL_MS", str(EMBEDDED_HEARTBEAT_INTERVAL_MS)
            )
        env.pop("LOOPCRM_DATABASE_URL", None)
        log = open(self._logs / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
        self._children[name] = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.close()

    def _port_of(self, name: str) -> int:
        return int(os.environ.get(f"LOOPCRM_{name.upper()}_PORT", SERVICE_PORTS[name]))

    def _wait_until_ready(self) -> bool:
        deadline = time.monotonic() + self._ready_timeout
        pending = set(self._children)
        while pending and not self._stop_requested:
            for name in sorted(pending):
                if self._children[name].poll() is not None:
                    print(f"{name} exited during start-up; see {self._logs / (name + '.log')}")
                    return False
                if _is_ready(self._port_of(name)):
                    pending.discard(name)
            if time.monotonic() > deadline:
                print(f"not ready after {self._ready_timeout:.0f}s: {', '.join(sorted(pending))}")
                return False
            time.sleep(0.2)
        return not pending

    def _print_banner(self, bootstrap: str, dev_key: str) -> None:
        print("\nloopcrm is up:")
        for name in SERVICE_PORTS:
            print(f"  {name:<13} http://127.0.0.1:{self._port_of(name)}   (docs: /docs)")
        print(f"  broker        {bootstrap}")
        print(f"  dev API key   {dev_key}   (Authorization: Bearer <key>, every scope)")
        print(f"  logs          {self._logs}/")
        print("Ctrl-C stops everything.", flush=True)

    def _supervise(self) -> int:
        while not self._stop_requested:
            for name, child in self._children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping everything")
                    return 1
            time.sleep(0.2)
        print("\nstopping...")
        return 0

    def _stop_all(self) -> None:
        for child in self._children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 25
        for child in self._children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._broker is not None:
            self._broker.stop()
        print("stopped.", flush=True)


def _is_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False
