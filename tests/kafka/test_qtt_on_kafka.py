"""The same ksqlDB test files pass the same cases on a real broker as on the embedded log.

``streamsql test FILES`` and ``streamsql test FILES --kafka HOST:PORT`` run as subprocesses, as
a user would run them; the sets of passing cases must be identical. Comparing with the embedded
run (instead of a fixed number) keeps the test meaningful while features land: whatever passes
embedded must pass on Kafka too, and nothing may pass only on Kafka.

To stay within a couple of minutes, large files are sampled evenly (every k-th test) into a
temporary copy. Cases whose results differ are run once more on both backends before failing:
on a shared working tree the code may change between the two runs.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kafka_support import KafkaUnderTest

from engine.qtt.loader import load_lenient

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "qtt"
MAX_TESTS_PER_FILE = 50

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
    "fk-join.json",
    "table.json",
    "source-table.json",
    "drop_source.json",
]


_DECIMAL = re.compile(r'"@@decimal:([-+0-9.eE]+)@@"')


def _dumps(doc: Any) -> str:
    """JSON with the corpus' numbers written exactly as read (the loader reads floats as Decimal)."""

    def marker(value: object) -> str:
        if isinstance(value, Decimal):
            return f"@@decimal:{value}@@"
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

    return _DECIMAL.sub(r"\1", json.dumps(doc, default=marker))


def _sampled(name: str, folder: Path) -> Path:
    """The corpus file, or an even sample of its tests in ``folder`` when it is large."""
    source = CORPUS / name
    doc = load_lenient(source.read_text(encoding="utf-8"))
    tests = doc.get("tests", [])
    if len(tests) <= MAX_TESTS_PER_FILE:
        return source
    step = len(tests) / MAX_TESTS_PER_FILE
    doc["tests"] = [tests[int(i * step)] for i in range(MAX_TESTS_PER_FILE)]
    target = folder / name
    target.write_text(_dumps(doc), encoding="utf-8")
    return target


def _run(args: list[str], report: Path) -> tuple[dict[str, bool], float]:
    """Run ``streamsql test``; case -> passed, and the seconds it took."""
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "test", *args, "--quiet", "--json-report", str(report)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert report.exists(), f"streamsql test wrote no report (exit {done.returncode}):\n{done.stderr[-3000:]}"
    cases = json.loads(report.read_text(encoding="utf-8"))["cases"]
    results = {f"{c['file']}: {c['name']} [{c['format']}]": c["status"] == "passed" for c in cases}
    return results, time.monotonic() - began


def _differing(files: list[str], bootstrap: str, folder: Path, tag: str) -> tuple[list[str], str]:
    embedded, t_embedded = _run(files, folder / f"embedded-{tag}.json")
    on_kafka, t_kafka = _run([*files, "--kafka", bootstrap], folder / f"kafka-{tag}.json")
    assert embedded.keys() == on_kafka.keys(), "the two runs did not run the same cases"
    summary = (
        f"{sum(embedded.values())} of {len(embedded)} passed embedded ({t_embedded:.1f}s), "
        f"{sum(on_kafka.values())} on Kafka ({t_kafka:.1f}s)"
    )
    return sorted(c for c in embedded if embedded[c] != on_kafka[c]), summary


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared QTT corpus is not next to the repo")
def test_same_cases_pass_on_kafka_as_embedded(kafka: KafkaUnderTest, tmp_path: Path) -> None:
    present = [name for name in FILES if (CORPUS / name).exists()]
    assert len(present) >= len(FILES) - 2, "most of the chosen QTT files are missing from the corpus"
    files = [str(_sampled(name, tmp_path)) for name in present]
    differing, summary = _differing(files, kafka.bootstrap, tmp_path, "all")
    print(f"QTT: {summary}")
    assert "0 of" not in summary.split(" passed embedded")[0], "no case passed: the comparison is empty"
    if differing:  # once more, only the files involved: the code may have changed in between
        again = sorted({str(tmp_path / c.split(":")[0]) if (tmp_path / c.split(":")[0]).exists()
                        else str(CORPUS / c.split(":")[0]) for c in differing})
        still, summary = _differing(again, kafka.bootstrap, tmp_path, "again")
        differing = [c for c in differing if c in still]
        assert not differing, f"{len(differing)} cases differ between Kafka and embedded ({summary}): {differing[:20]}"
