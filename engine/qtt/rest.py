"""ksqlDB's REST query-validation cases (the ``rest_*`` files): statements, then responses.

As ksqlDB's RestTestExecutor does: the statements before the first query run first, then the
inputs are produced and processed, then the remaining statements run. Each statement's result
is compared with its expected response: ``admin`` responses by ``@type``, ``query`` responses by
header schema and rows. ``expectedError`` cases must fail with that message.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import parser as sqlparser
from engine.catalog import Source
from engine.engine import Engine
from engine.errors import KsqlError
from engine.qtt.checks import schema_columns
from engine.qtt.loader import TestCase
from engine.qtt.records import values_equal
from engine.results import RowsResult, StatementResult
from parser import ParseError
from parser import statements as st

Producer = Callable[[Engine, list[dict[str, Any]]], None]


def _json_value(v: Any) -> Any:
    """A result value as ksqlDB's REST API writes it."""
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}"
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_json_value(x) for x in v]
    if isinstance(v, float):
        return Decimal(repr(v))
    return v


def _header_matches(expected: str, result: RowsResult) -> bool:
    want = schema_columns(expected)
    if want is None:
        return True
    got = [(n, t, n in result.key_names) for n, t in result.columns]
    return want == got


def _rows_match(expected: list[list[Any]], actual: list[list[Any]]) -> bool:
    def same(e: list[Any], a: list[Any]) -> bool:
        return len(e) == len(a) and all(values_equal(x, _json_value(y)) for x, y in zip(e, a, strict=True))

    if len(expected) != len(actual):
        return False
    if all(same(e, a) for e, a in zip(expected, actual, strict=True)):
        return True
    remaining = list(actual)  # pull queries over several partitions have no defined order
    for e in expected:
        hit = next((i for i, a in enumerate(remaining) if same(e, a)), None)
        if hit is None:
            return False
        remaining.pop(hit)
    return True


def _compare(expected: dict[str, Any], result: StatementResult | RowsResult) -> str | None:
    if "admin" in expected:
        want = expected["admin"].get("@type")
        got = result.entity if isinstance(result, StatementResult) else "rows"
        return None if want is None or want == got else f"expected admin {want}, got {got}"
    if "query" in expected:
        if not isinstance(result, RowsResult):
            return "expected query rows"
        parts = expected["query"]
        header = next((p["header"] for p in parts if "header" in p), None)
        if header and "schema" in header and not _header_matches(header["schema"], result):
            return f"header {header['schema']!r} != {result.schema_text()!r}"
        rows = [p["row"]["columns"] for p in parts if "row" in p]
        if not _rows_match(rows, result.rows):
            return f"rows {rows!r} != {[[_json_value(v) for v in r] for r in result.rows]!r}"
    return None


def run_rest(engine: Engine, case: TestCase, produce: Producer) -> tuple[bool, str]:
    """Run a REST case; ``produce`` writes the inputs and drains the queries."""
    parsed: list[sqlparser.ParsedStatement] = []
    expected_error = case.rest_error
    try:
        for text in case.statements:
            parsed.extend(sqlparser.parse_with_source(text, engine.variables))
    except ParseError as err:
        return _expect_error(expected_error, str(err))
    first_query = next((i for i, p in enumerate(parsed) if isinstance(p.statement, st.Query)), len(parsed))
    results: list[StatementResult | RowsResult] = []
    for i, p in enumerate(parsed):
        if i == first_query:
            produce(engine, case.inputs)
        try:
            results.append(engine.execute_statement(p.statement, p.text))
        except KsqlError as err:
            return _expect_error(expected_error, err.message)
    if first_query == len(parsed):
        produce(engine, case.inputs)
    if expected_error is not None:
        return False, f"expected error {expected_error.get('message')!r}; nothing raised"
    for i, (want, got) in enumerate(zip(case.responses or [], results, strict=False)):
        problem = _compare(want, got)
        if problem:
            return False, f"response {i}: {problem}"
    return True, ""


def _expect_error(expected: dict[str, Any] | None, message: str) -> tuple[bool, str]:
    if expected is None:
        return False, f"statement failed: {message}"
    if str(expected.get("message", "")) in message:
        return True, ""
    return False, f"expected error {expected.get('message')!r}, got {message!r}"


def key_names(source: Source) -> set[str]:
    """Columns a pull query's header marks KEY."""
    names = {c.name for c in source.key_columns}
    if source.window is not None:
        names |= {"WINDOWSTART", "WINDOWEND"}
    return names
