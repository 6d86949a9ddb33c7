"""Runs the whole ksqlDB QTT corpus (../shared/qtt) and guards the pass count.

The per-case results are compared with the checked-in baseline (``baseline.json``): a case that
passed before and fails now fails this test. After improving the engine, regenerate the
baseline in the same commit with ``STREAMSQL_UPDATE_BASELINE=1 make test`` (or
``pytest tests/conformance``); the counts are printed either way.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from cli.testcmd import run_cases
from engine.qtt.loader import cases_from_file, collect_files
from tests.conformance.corpus import basic_formats, case_id, category

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "qtt"
BASELINE = Path(__file__).with_name("baseline.json")


def _summary(results: list) -> dict[str, list[int]]:
    counts: dict[str, Counter[str]] = {}
    for r in results:
        cat = category(r.case) + (" (basic formats)" if basic_formats(r.case) else " (other formats)")
        for key in (cat, "all"):
            counts.setdefault(key, Counter())["passed" if r.passed else "failed"] += 1
    return {k: [c["passed"], c["passed"] + c["failed"]] for k, c in sorted(counts.items())}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared QTT corpus is not next to the repo")
def test_corpus_does_not_regress() -> None:
    cases = [c for f in collect_files([str(CORPUS)]) for c in cases_from_file(f)]
    results = run_cases(cases, jobs=os.cpu_count() or 2)
    summary = _summary(results)
    for name, (passed, total) in summary.items():
        print(f"QTT {name}: {passed}/{total} passed ({100.0 * passed / max(1, total):.1f}%)")
    passed_now = {case_id(r.case) for r in results if r.passed}
    if os.environ.get("STREAMSQL_UPDATE_BASELINE"):
        BASELINE.write_text(json.dumps({"summary": summary, "passed": sorted(passed_now)}, indent=1) + "\n")
    baseline = json.loads(BASELINE.read_text()) if BASELINE.exists() else {"passed": []}
    lost = sorted(set(baseline["passed"]) - passed_now)
    details = {case_id(r.case): r.detail for r in results}
    assert not lost, f"{len(lost)} cases regressed:\n" + "\n".join(f"{c}: {details.get(c, 'missing')}" for c in lost[:40])
