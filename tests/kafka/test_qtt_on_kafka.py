"""The same ksqlDB test files pass the same cases on a real broker as on the embedded log.

``streamsql test FILES`` and ``streamsql test FILES --kafka HOST:PORT`` run as subprocesses, as
a user would run them; the sets of passing cases must be identical. Comparing with the embedded
run (instead of a fixed number) keeps the test meaningful while features land: whatever passes
embedded must pass on Kafka too, and nothing may pass only on Kafka.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka_support import KafkaUnderTest

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "qtt"

# Stateless streams, re-keying, aggregates, windows, joins, tables, system columns and formats.
FILES = [
    "project-filter.json",
    "partition-by.json",
    "row-offset-and-partition.json",
    "system-columns.json",
    "insert-into.json",
    "kafka.json",
    "sum.json",
    "count.json",
    "group-by.json",
    "having.json",
    "multi-col-keys.json",
    "hopping-windows.json",
    "session-windows.json",
    "windowed-source.json",
    "suppress.json",
    "joins.json",
    "stream-table-join.json",
    "table-table-join.json",
    "table.json",
    "source-table.json",
    "drop_source.json",
]


def _passed(report: Path) -> set[str]:
    cases = json.loads(report.read_text(encoding="utf-8"))["cases"]
    return {f"{c['file']}: {c['name']} [{c['format']}]" for c in cases if c["status"] == "passed"}


def _run(args: list[str], report: Path) -> tuple[set[str], float]:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "test", *args, "--quiet", "--json-report", str(report)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert report.exists(), f"streamsql test wrote no report (exit {done.returncode}):\n{done.stderr[-3000:]}"
    return _passed(report), time.monotonic() - began


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared QTT corpus is not next to the repo")
def test_same_cases_pass_on_kafka_as_embedded(kafka: KafkaUnderTest, tmp_path: Path) -> None:
    files = [str(CORPUS / f) for f in FILES if (CORPUS / f).exists()]
    assert len(files) >= len(FILES) - 2, "most of the chosen QTT files are missing from the corpus"
    embedded, t_embedded = _run(files, tmp_path / "embedded.json")
    on_kafka, t_kafka = _run([*files, "--kafka", kafka.bootstrap], tmp_path / "kafka.json")
    print(f"QTT: {len(embedded)} passed embedded ({t_embedded:.1f}s), {len(on_kafka)} on Kafka ({t_kafka:.1f}s)")
    only_embedded = sorted(embedded - on_kafka)
    only_kafka = sorted(on_kafka - embedded)
    assert not only_embedded and not only_kafka, (
        f"{len(embedded)} passed embedded, {len(on_kafka)} on Kafka; "
        f"only embedded: {only_embedded[:20]}; only Kafka: {only_kafka[:20]}"
    )
    assert embedded, "no case passed at all: the comparison would be empty"
