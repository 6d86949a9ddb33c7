"""`streamsql test`: run ksqlDB test files (QTT JSON, or ksql-test-runner's three files)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
from pathlib import Path

from engine.qtt.loader import TestCase, cases_from_file, collect_files, load_lenient
from engine.qtt.runner import CaseResult, run_case


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `test` subcommand."""
    p = sub.add_parser("test", help="run ksqlDB query-validation test files")
    p.add_argument("paths", nargs="*", help="test files or folders of *.json")
    p.add_argument("--json-report", help="write per-case results as JSON to this file")
    p.add_argument("--filter", help="only cases whose name contains this text")
    p.add_argument("--statements", help="ksql-test-runner form: the SQL file")
    p.add_argument("--input", help="ksql-test-runner form: the inputs JSON file")
    p.add_argument("--output", help="ksql-test-runner form: the expected outputs JSON file")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel worker processes")
    p.add_argument("--quiet", action="store_true", help="print only failures and the closing line")
    p.add_argument("--kafka", default=os.environ.get("STREAMSQL_KAFKA"), help="run against this Kafka broker")
    p.set_defaults(func=run)


def _runner_form_case(args: argparse.Namespace) -> TestCase:
    statements_text = Path(args.statements).read_text(encoding="utf-8")
    import parser as sqlparser
    statements = [p.text for p in sqlparser.parse_with_source(statements_text)]
    inputs = load_lenient(Path(args.input).read_text()).get("inputs", []) if args.input else []
    outputs = load_lenient(Path(args.output).read_text()).get("outputs", []) if args.output else None
    return TestCase(file=Path(args.statements).name, name="test", format=None, statements=statements,
                    inputs=inputs, outputs=outputs)


def _run_one(case: TestCase) -> CaseResult:
    return run_case(case)


def run_cases(cases: list[TestCase], jobs: int) -> list[CaseResult]:
    """Run cases, in parallel worker processes when jobs > 1 (order of results kept)."""
    if jobs <= 1 or len(cases) < 8:
        return [run_case(c) for c in cases]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, maxtasksperchild=200) as pool:
        return pool.map(_run_one, cases, chunksize=4)


def write_report(path: str, results: list[CaseResult]) -> None:
    """The JSON report: one entry per case."""
    doc = {"cases": [{"file": r.case.file, "name": r.case.name, "format": r.case.format,
                      "status": "passed" if r.passed else "failed", "detail": r.detail} for r in results]}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(doc, indent=1), encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    """Entry point of `streamsql test`."""
    if args.statements:
        cases = [_runner_form_case(args)]
    else:
        cases = [c for f in collect_files(args.paths) for c in cases_from_file(f)]
    if args.filter:
        cases = [c for c in cases if args.filter in c.name]
    if args.kafka:
        from cli.kafka_tests import run_cases_on_kafka
        results = run_cases_on_kafka(cases, args.kafka)
    else:
        results = run_cases(cases, args.jobs)
    for r in results:
        if r.passed and not args.quiet:
            print(f"PASS {r.case.full_name}")
        elif not r.passed:
            print(f"FAIL {r.case.full_name}: {r.detail}")
    if args.json_report:
        write_report(args.json_report, results)
    passed = sum(r.passed for r in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    sys.stdout.flush()
    return 0 if passed == len(results) else 1
