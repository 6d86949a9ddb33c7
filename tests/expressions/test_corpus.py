"""Run the corpus harness (single-source projections/filters) and guard its pass count."""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest
from corpus import CORPUS, run_corpus

# Raise this when the pass count improves; the test fails only when it drops.
MIN_PASSING = 320


@pytest.mark.skipif(not CORPUS.exists(), reason="corpus not available")
def test_corpus_pass_count(con: duckdb.DuckDBPyConnection) -> None:
    outcomes = run_corpus(con)
    counts = Counter(o.status for o in outcomes)
    print(f"corpus harness: {counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped")
    assert counts["pass"] >= MIN_PASSING
