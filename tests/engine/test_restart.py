"""A real process kill in the middle of a windowed aggregation, then a restart.

The worker commits state and source offsets in one DuckDB transaction after producing each
batch's changes. Killed with SIGKILL after some steps and restarted on the same data dir, it
must end with exactly the table of an uninterrupted run: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa

from engine.engine import Engine
from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig

REPO = Path(__file__).resolve().parents[2]
SQL = """
CREATE STREAM clicks (user_id STRING KEY, amount INT) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');
CREATE TABLE per_user AS SELECT user_id, COUNT(*) AS n, SUM(amount) AS total, MAX(amount) AS top
  FROM clicks WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 2 SECONDS) GROUP BY user_id;
"""


def _seed_input(data_dir: Path, n: int = 3000) -> None:
    rng = random.Random(7)
    engine = Engine(data_dir=data_dir)
    topic = engine.store.create_topic(TopicConfig("clicks", 2))
    ts = [i * 7 - rng.choice([0, 0, 500, 2500]) for i in range(n)]
    batch = pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int32()), pa.array([0] * n, pa.int64()), pa.array([max(0, t) for t in ts], pa.int64()),
        pa.array([f"u{rng.randint(0, 40)}".encode() for _ in range(n)], pa.binary()),
        pa.array([json.dumps({"AMOUNT": rng.randint(1, 500)}).encode() for _ in range(n)], pa.binary()),
        pa.nulls(n, HEADER_TYPE)], schema=RAW_SCHEMA)
    topic.produce(batch)
    engine.close()


def _worker(data_dir: Path, sql_file: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "tests.engine.crash_worker", str(data_dir), str(sql_file)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_steps(proc: subprocess.Popen[str], steps: int, deadline_s: float = 120.0) -> None:
    deadline = time.monotonic() + deadline_s
    seen = 0
    assert proc.stdout is not None
    while seen < steps:
        assert time.monotonic() < deadline, "worker made no progress in time"
        line = proc.stdout.readline()
        assert line, f"worker exited early: {proc.stderr.read() if proc.stderr else ''}"
        if line.startswith("step") and not line.startswith("step 0"):
            seen += 1


def _run_to_end(data_dir: Path, sql_file: Path) -> None:
    proc = _worker(data_dir, sql_file)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "done" in out


def _table(data_dir: Path) -> list[tuple]:
    engine = Engine(data_dir=data_dir)
    try:
        rows = engine.query("SELECT * FROM per_user ORDER BY ALL").rows
    finally:
        engine.close()
    return [tuple(r) for r in rows]


def test_kill_mid_windowed_aggregation_then_restart_converges(tmp_path: Path) -> None:
    sql_file = tmp_path / "job.sql"
    sql_file.write_text(SQL)
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    _seed_input(crashed)
    shutil.copytree(crashed, clean)

    proc = _worker(crashed, sql_file)
    try:
        _wait_for_steps(proc, 8)  # several committed batches, well before the end of the input
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    _run_to_end(crashed, sql_file)  # the restart resumes from the offsets saved with the state
    _run_to_end(clean, sql_file)
    expected = _table(clean)
    assert len(expected) > 50
    assert _table(crashed) == expected
