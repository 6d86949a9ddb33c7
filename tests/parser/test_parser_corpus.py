"""Acceptance over ksqlDB's query-validation-test corpus (../shared/qtt)."""

from __future__ import annotations

import functools

import pytest
from parser_qtt_corpus import CORPUS_DIR, CorpusCase, load_cases

import parser

# Floors at the achieved values: a regression in either count fails the suite.
MIN_STATEMENTS_PARSED = 5271
MIN_PARSE_FAILURES_REJECTED = 29

pytestmark = pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason="corpus not available")


@functools.cache
def _parse_error(statement: str) -> str | None:
    """The ParseError text for ``statement``, or None when it parses (memoised: the corpus
    repeats statements across ``format`` expansions)."""
    try:
        parser.parse(statement)
    except parser.ParseError as err:
        return str(err)
    return None


def _rejected(case: CorpusCase) -> bool:
    return any(_parse_error(statement) is not None for statement in case.statements)


def test_corpus_statements_parse_and_parse_failures_are_rejected() -> None:
    parsed = total = rejected = failure_cases = 0
    failures: list[str] = []
    for case in load_cases():
        if case.expects_parse_failure:
            failure_cases += 1
            rejected += _rejected(case)
            continue
        for statement in case.statements:
            total += 1
            error = _parse_error(statement)
            if error is None:
                parsed += 1
            else:
                failures.append(f"{case.file} / {case.name}: {error}")
    summary = (
        f"statements parsed {parsed}/{total} ({parsed / total:.2%}); "
        f"parse-error cases rejected {rejected}/{failure_cases}"
    )
    print(f"\n{summary}")
    assert parsed >= MIN_STATEMENTS_PARSED, summary + "\n" + "\n".join(failures[:20])
    assert rejected >= MIN_PARSE_FAILURES_REJECTED, summary


def test_corpus_round_trip() -> None:
    """parse(render(s)) == s for every statement of the corpus that parses."""
    checked = 0
    mismatches: list[str] = []
    for text in sorted({s for case in load_cases() for s in case.statements}):
        if _parse_error(text) is not None:
            continue
        for statement in parser.parse(text):
            checked += 1
            rendered = statement.sql()
            if parser.parse(rendered) != [statement]:
                mismatches.append(f"{text}\n  -> {rendered}")
    print(f"\nround-tripped {checked - len(mismatches)}/{checked} distinct corpus statements")
    assert not mismatches, f"{len(mismatches)} mismatches, e.g.\n" + "\n".join(mismatches[:10])
