"""Helpers of the CLI tests: `streamsql` subprocesses that are always stopped, free ports,
condition waits with deadlines, and plain-HTTP requests (as ksqlDB's docs show)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def streamsql_argv(*args: str) -> list[str]:
    """The command line of `streamsql ARGS` with this interpreter."""
    return [PYTHON, "-m", "cli.main", *args]


def child_env() -> dict[str, str]:
    """Environment for child processes: the repo importable, no Kafka from the outside."""
    env = {k: v for k, v in os.environ.items() if k != "STREAMSQL_KAFKA"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns a truthy value; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling interval of a condition wait, not a synchronisation sleep


def request(url: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
            timeout: float = 30.0) -> tuple[int, bytes, http.client.HTTPMessage]:
    """One HTTP request; returns status, body bytes and headers."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Content-Type": "application/vnd.ksql.v1+json",
                                                       **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.headers
    finally:
        conn.close()


def request_json(url: str, method: str, path: str, body: Any = None,
                 headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One HTTP request whose response is JSON."""
    status, raw, _ = request(url, method, path, body, headers)
    return status, json.loads(raw)


def server_up(url: str) -> bool:
    """True once GET /info answers."""
    try:
        return request(url, "GET", "/info", timeout=2)[0] == 200
    except OSError:
        return False


class Child:
    """A `streamsql` subprocess, stopped with SIGINT (then killed) when the test ends."""

    def __init__(self, argv: list[str], cwd: Path = ROOT) -> None:
        self.proc = subprocess.Popen(argv, cwd=cwd, env=child_env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.output = ""

    def stop(self, timeout: float = 30.0) -> int:
        """SIGINT, wait for a clean exit (kill at the deadline); returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                out, _ = self.proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                out, _ = self.proc.communicate()
            self.output += out or ""
        elif self.proc.stdout is not None and not self.proc.stdout.closed:
            self.output += self.proc.stdout.read()
            self.proc.stdout.close()
        return int(self.proc.returncode)


def run_cli(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run `streamsql ARGS` to completion."""
    return subprocess.run(streamsql_argv(*args), cwd=ROOT, env=child_env(), capture_output=True, text=True,
                          timeout=timeout)
