"""Starting measurement processes: ``bench.worker`` in the project's venv, Quix in its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
QUIX_VENV = REPO / ".work" / "bench" / "quix-venv"


class WorkerError(RuntimeError):
    """A measurement process failed; the message ends with its stderr."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)  # type: ignore[no-any-return]
    raise WorkerError("no result line")


def run(spec: dict[str, Any], timeout: float = 3600, prefix: list[str] | None = None) -> dict[str, Any]:
    """Run one ``bench.worker`` measurement and return its result."""
    cmd = [*(prefix or []), sys.executable, "-m", "bench.worker", json.dumps(spec)]
    proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise WorkerError(f"worker {spec['mode']} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    try:
        return _last_json(proc.stdout)
    except WorkerError:
        raise WorkerError(f"worker {spec['mode']}: no result; stderr: {proc.stderr.strip()[-2000:]}") from None


def run_driven(spec: dict[str, Any], drive: Callable[[], dict[str, Any]], timeout: float = 600) -> dict[str, Any]:
    """Start a ``latency`` worker, wait until its engine runs, call ``drive`` here, then stop it."""
    cmd = [sys.executable, "-m", "bench.worker", json.dumps(spec)]
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if not line.startswith('{"ready"'):
            raise WorkerError(f"latency worker did not start: {line!r} {proc.stderr.read()[-2000:] if proc.stderr else ''}")
        result = drive()
        proc.stdin.write("\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        raise WorkerError(f"latency worker exited {proc.returncode}: {err.strip()[-2000:]}")
    return {**_last_json(out), **result}


def quix_python() -> Path:
    """The interpreter of the Quix Streams virtualenv."""
    return QUIX_VENV / "bin" / "python"


def run_quix(broker: str, input_topic: str, output_topic: str, count: int, state_dir: Path,
             group: str, timeout: float = 3600) -> dict[str, Any]:
    """The peer baseline (``bench/peer_quix.py``) in the Quix venv."""
    python = quix_python()
    if not python.exists():
        raise WorkerError(f"{python} missing: run `make bench` (or see bench/README.md) to create the Quix venv")
    cmd = [str(python), str(REPO / "bench" / "peer_quix.py"), "--broker", broker, "--input", input_topic,
           "--output", output_topic, "--count", str(count), "--state-dir", str(state_dir), "--group", group]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise WorkerError(f"quix exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return _last_json(proc.stdout)
