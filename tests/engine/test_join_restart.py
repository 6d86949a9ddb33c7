"""A real process kill in the middle of a stream-stream join, then a restart on the same data dir.

What "loses and duplicates nothing" means here, and what is checked: the join's sink topic after
the crash and restart holds exactly the records of an uninterrupted run, in the same order on
every partition (key, value and timestamp of each record). That is the strong, exactly-once
guarantee: the join state, the outer-join store and the source offsets commit in one DuckDB
transaction, and the outputs of a batch that was produced but not committed are skipped when the
batch is replayed (``engine.operators.join_delivery``). Two kills are tested: SIGKILL once the
worker has committed a few batches (wherever it is), and SIGKILL while the worker is held right
after producing a batch's outputs and before committing it, the worst point.

Run as a module (``python -m tests.engine.test_join_restart DATA_DIR SQL_FILE [HOLD_AT]``) this
file is the worker: it runs the statements on a fresh data dir (a restart gets them back from the
command log), steps the queries printing ``commit N`` after each committed batch, and with
``HOLD_AT`` blocks after producing the outputs of batch ``HOLD_AT`` until it is killed.
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
import pytest

from engine.engine import Engine
from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig

REPO = Path(__file__).resolve().parents[2]
SQL = """
CREATE STREAM views (user_id STRING KEY, page STRING) WITH (KAFKA_TOPIC='views', VALUE_FORMAT='JSON');
CREATE STREAM buys (user_id STRING KEY, amount INT) WITH (KAFKA_TOPIC='buys', VALUE_FORMAT='JSON');
CREATE STREAM joined AS SELECT v.user_id, page, amount FROM views v
  LEFT JOIN buys b WITHIN 2 SECONDS GRACE PERIOD 1 SECOND ON v.user_id = b.user_id;
"""


def _seed_topic(engine: Engine, name: str, n: int, value: str, seed: int) -> None:
    rng = random.Random(seed)
    topic = engine.store.create_topic(TopicConfig(name, 2))
    ts = [max(0, i * 5 - rng.choice([0, 0, 0, 700, 2500])) for i in range(n)]
    values = [json.dumps({value: rng.randint(1, 99) if value == "AMOUNT" else f"p{rng.randint(0, 9)}"}).encode()
              for _ in range(n)]
    topic.produce(pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int32()), pa.array([0] * n, pa.int64()), pa.array(ts, pa.int64()),
        pa.array([f"u{rng.randint(0, 30)}".encode() for _ in range(n)], pa.binary()), pa.array(values, pa.binary()),
        pa.nulls(n, HEADER_TYPE)], schema=RAW_SCHEMA))


def _seed(data_dir: Path) -> None:
    engine = Engine(data_dir=data_dir)
    _seed_topic(engine, "views", 2500, "PAGE", 1)
    _seed_topic(engine, "buys", 1500, "AMOUNT", 2)
    engine.close()


def _worker(data_dir: Path, sql_file: Path, hold_at: int | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-m", "tests.engine.test_join_restart", str(data_dir), str(sql_file)]
    args += [str(hold_at)] if hold_at is not None else []
    return subprocess.Popen(args, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(proc: subprocess.Popen[str], word: str, count: int, deadline_s: float = 120.0) -> None:
    """Read the worker's lines until ``count`` of them start with ``word`` (or fail at the deadline)."""
    deadline = time.monotonic() + deadline_s
    seen = 0
    assert proc.stdout is not None
    while seen < count:
        assert time.monotonic() < deadline, "worker made no progress in time"
        line = proc.stdout.readline()
        assert line, f"worker exited early: {proc.stderr.read() if proc.stderr else ''}"
        seen += line.startswith(word)


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _run_to_end(data_dir: Path, sql_file: Path) -> None:
    proc = _worker(data_dir, sql_file)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "done" in out


def _sink(data_dir: Path) -> list[list[tuple[bytes | None, bytes | None, int]]]:
    """The sink's records per partition, in offset order."""
    engine = Engine(data_dir=data_dir)
    try:
        topic = engine.store.topic("JOINED")
        assert topic is not None
        return [[(r["key"], r["value"], r["timestamp"]) for r in topic.fetch(p, 0, 1_000_000).to_pylist()]
                for p in range(topic.partitions)]
    finally:
        engine.close()


@pytest.fixture()
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    sql_file = tmp_path / "job.sql"
    sql_file.write_text(SQL)
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    _seed(crashed)
    shutil.copytree(crashed, clean)
    return sql_file, crashed, clean


def _assert_same_output(crashed: Path, clean: Path, sql_file: Path) -> None:
    _run_to_end(crashed, sql_file)
    _run_to_end(clean, sql_file)
    expected = _sink(clean)
    assert sum(len(p) for p in expected) > 2000
    assert _sink(crashed) == expected


def test_kill_after_some_commits_then_restart_gives_the_uninterrupted_output(dirs: tuple[Path, Path, Path]) -> None:
    sql_file, crashed, clean = dirs
    proc = _worker(crashed, sql_file)
    try:
        _wait_for(proc, "commit", 6)  # several committed batches, well before the end of the input
    finally:
        _kill(proc)
    _assert_same_output(crashed, clean, sql_file)


def test_kill_between_produce_and_commit_then_restart_skips_what_was_produced(
        dirs: tuple[Path, Path, Path]) -> None:
    sql_file, crashed, clean = dirs
    proc = _worker(crashed, sql_file, hold_at=5)
    try:
        _wait_for(proc, "holding", 1)  # batch 5's outputs are in the sink, its state is not committed
    finally:
        _kill(proc)
    _assert_same_output(crashed, clean, sql_file)


def _hold_before_commit(engine: Engine, hold_at: int) -> None:
    """Make the worker stop after producing batch ``hold_at`` and before committing it."""
    for query in engine.running.values():
        processor = query.processor
        commit = processor.commit  # type: ignore[attr-defined]
        calls = [0]

        def held(topic: str, positions: list[int], commit=commit, calls=calls) -> None:  # noqa: ANN001
            calls[0] += 1
            if calls[0] == hold_at:
                print("holding", flush=True)
                sys.stdin.readline()  # blocks until the test kills the process
            commit(topic, positions)

        processor.commit = held  # type: ignore[attr-defined]


def main(data_dir: str, sql_file: str, hold_at: int | None) -> None:
    """The worker (see the module docstring)."""
    fresh = not (Path(data_dir) / "commands.jsonl").exists()
    engine = Engine(data_dir=data_dir, properties={"ksql.streams.max.poll.records": "200"})
    if fresh:
        engine.execute(Path(sql_file).read_text())
    if hold_at is not None:
        _hold_before_commit(engine, hold_at)
    while (n := engine.run_once()) > 0:
        print(f"commit {n}", flush=True)
    engine.close()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else None)
