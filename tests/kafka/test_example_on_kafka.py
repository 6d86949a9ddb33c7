"""An example from queries/ run with `streamsql run --kafka`, its table read by `streamsql query`.

The same file runs twice: on the embedded log to completion, and on the real broker as a
long-running `streamsql run --kafka ... --listen ...` process. While the Kafka run is live,
`streamsql query --server` reads its materialised table until it equals the embedded run's.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from kafka_support import KafkaUnderTest
from streamsql_process import REPO, StreamsqlProcess

EXAMPLE = REPO / "queries" / "log_error_counts.sql"
TOPICS = ("app_logs", "errors_per_service", "errors_per_host")
QUERY = "SELECT SERVICE, WINDOWSTART, ERRORS, LAST_ERROR FROM errors_per_service ORDER BY ALL"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def _rows(result: subprocess.CompletedProcess[str]) -> list[list[object]] | None:
    if result.returncode != 0:
        return None
    return [list(r.values()) for r in json.loads(result.stdout)]


def test_example_on_kafka_is_queryable_while_it_runs(kafka: KafkaUnderTest, tmp_path: Path) -> None:
    uid = uuid.uuid4().hex[:8]
    sql = EXAMPLE.read_text(encoding="utf-8")
    for topic in TOPICS:  # unique topics, so a shared broker never mixes runs
        sql = sql.replace(f"'{topic}'", f"'{topic}-{uid}'")
    script = tmp_path / "log_error_counts.sql"
    script.write_text(sql, encoding="utf-8")

    embedded = _cli("run", str(script), "--data-dir", str(tmp_path / "embedded"), "--until-idle")
    assert embedded.returncode == 0, embedded.stderr
    expected = _rows(_cli("query", "--data-dir", str(tmp_path / "embedded"), "--format", "json", QUERY))
    assert expected, "the example produces rows on the embedded log"

    port = _free_port()
    with StreamsqlProcess(["run", str(script), "--kafka", kafka.bootstrap, "--data-dir", str(tmp_path / "kafka"),
                           "--listen", f"127.0.0.1:{port}", "--progress", "off"]) as proc:
        proc.wait_for_line(r"Running \d+ persistent queries", 120)
        deadline, rows = time.monotonic() + 120, None
        while rows != expected and time.monotonic() < deadline:  # the table converges while it runs
            rows = _rows(_cli("query", "--server", f"http://127.0.0.1:{port}", "--format", "json", QUERY))
        assert rows == expected
        adhoc = _cli("query", "--server", f"http://127.0.0.1:{port}", "--format", "json",
                     "SELECT service, sum(errors) AS total FROM errors_per_service GROUP BY service ORDER BY total DESC")
        assert adhoc.returncode == 0 and json.loads(adhoc.stdout), adhoc.stderr
        assert proc.stop() == 0, proc.stderr[-3000:]
    assert "Stopped; offsets committed." in proc.stdout
