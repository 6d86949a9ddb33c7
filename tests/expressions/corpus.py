"""A small harness that runs single-source projection/filter cases of the ksqlDB corpus
(``/work/shared/qtt``) straight through the expression compiler and DuckDB.

It handles cases of the form ``CREATE STREAM <in> (...) WITH (value_format='JSON'...);
CREATE STREAM <out> AS SELECT <exprs> FROM <in> [WHERE ...];`` and builds the input Arrow
table directly from the test's JSON ``inputs``. Anything else is reported as skipped.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from engine import types as T
from engine.expressions import ExpressionError, Scope, compile_expression
from parser import parse
from parser.statements import CreateAsSelect, CreateSource, SqlType

CORPUS = Path("/work/shared/qtt")
_EPOCH = dt.datetime(1970, 1, 1)


def load_file(path: Path) -> dict[str, Any]:
    """Read a corpus file (JSON with // comments and trailing commas)."""
    text = path.read_text()
    text = re.sub(r'("(?:[^"\\]|\\.)*")|//[^\n]*', lambda m: m.group(1) or "", text)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    result: dict[str, Any] = json.loads(text)
    return result


@dataclass
class Outcome:
    """Result of one corpus case."""

    file: str
    name: str
    status: str  # pass, fail, skip
    detail: str = ""


def _ci_get(obj: dict[str, Any], name: str) -> Any:
    if name in obj:
        return obj[name]
    for key, value in obj.items():
        if key.upper() == name.upper():
            return value
    return None


def to_python(value: Any, t: SqlType) -> Any:
    """A JSON input value as the Python value pyarrow needs for type ``t``."""
    if value is None:
        return None
    base = t.base
    if base == "STRUCT":
        return {name: to_python(_ci_get(value, name), ft) for name, ft in t.fields} if isinstance(value, dict) else None
    if base == "ARRAY":
        return [to_python(v, t.items[0]) for v in value]
    if base == "MAP":
        return [(to_python(k, t.items[0]), to_python(v, t.items[1])) for k, v in value.items()]
    if base == "DECIMAL":
        return Decimal(str(value))
    if base in ("INTEGER", "BIGINT"):
        return int(value)
    if base == "DOUBLE":
        return float(value)
    if base == "STRING":
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    if base == "BOOLEAN":
        return bool(value)
    if base == "TIMESTAMP":
        return _EPOCH + dt.timedelta(milliseconds=int(value))
    if base == "DATE":
        return (_EPOCH + dt.timedelta(days=int(value))).date()
    if base == "TIME":
        return (_EPOCH + dt.timedelta(milliseconds=int(value))).time()
    if base == "BYTES":
        return base64.b64decode(value)
    return value


def to_json(value: Any) -> Any:
    """A DuckDB result value as ksqlDB's JSON serializer would write it."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dt.datetime):
        return int((value - _EPOCH).total_seconds() * 1000)
    if isinstance(value, dt.date):
        return (value - _EPOCH.date()).days
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) * 1000 + value.microsecond // 1000
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def same(actual: Any, expected: Any) -> bool:
    """Compare with numeric tolerance (ints vs floats vs decimals by value)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in expected)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected, strict=True))
    if isinstance(actual, Decimal) and isinstance(expected, int | float | str) and not isinstance(expected, bool):
        try:
            return actual == Decimal(str(expected))
        except ArithmeticError:
            return False
    if isinstance(actual, float) and isinstance(expected, int | float) and not isinstance(expected, bool):
        if math.isnan(actual):
            return isinstance(expected, float) and math.isnan(expected)
        return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(expected, str) and isinstance(actual, float):
        return expected in ("NaN", "Infinity", "-Infinity") and str(actual).lower().startswith(expected[:3].lower())
    return bool(actual == expected and type(actual) is type(expected) or actual == expected and not isinstance(actual, bool))


class Skip(Exception):
    """The case is outside what this harness can run."""


def _statements(test: dict[str, Any]) -> list[Any]:
    formats = test.get("format") or ["JSON"]
    if "JSON" not in formats:
        raise Skip("format")
    text = "\n".join(test["statements"]).replace("{FORMAT}", "JSON")
    try:
        return parse(text)
    except Exception as e:
        raise Skip(f"parse: {e}") from e


def _shape(stmts: list[Any]) -> tuple[CreateSource, CreateAsSelect]:
    if len(stmts) != 2 or not isinstance(stmts[0], CreateSource) or not isinstance(stmts[1], CreateAsSelect):
        raise Skip("shape")
    source, query = stmts
    sel = query.select
    if source.kind != "STREAM" or query.kind != "STREAM" or sel.joins or sel.window or sel.group_by \
            or sel.partition_by or sel.having or sel.from_.name != source.name:
        raise Skip("shape")
    if str(source.properties.get("VALUE_FORMAT", "")).upper() != "JSON":
        raise Skip("value format")
    if any(c.type.base not in T._SIMPLE_TO_ARROW and c.type.base not in ("DECIMAL", "ARRAY", "MAP", "STRUCT")
           for c in source.columns):
        raise Skip("custom type")
    return source, query


def _input_table(source: CreateSource, test: dict[str, Any]) -> pa.Table:
    topic = source.properties.get("KAFKA_TOPIC")
    columns: dict[str, list[Any]] = {c.name: [] for c in source.columns}
    columns.update({"ROWTIME": [], "ROWPARTITION": [], "ROWOFFSET": []})
    keys = [c for c in source.columns if c.key]
    for offset, record in enumerate(r for r in test.get("inputs", []) if r.get("topic") == topic):
        value = record.get("value")
        if not isinstance(value, dict):
            continue  # tombstones / non-object values are dropped by the JSON deserializer
        try:
            row = {}
            for col in source.columns:
                if col.key:
                    raw = record.get("key")
                    raw = _ci_get(raw, col.name) if isinstance(raw, dict) and len(keys) > 1 else raw
                else:
                    raw = _ci_get(value, col.name)
                row[col.name] = to_python(raw, col.type)
        except (ValueError, TypeError, ArithmeticError, AttributeError):
            continue  # ksqlDB drops records that fail to deserialize
        for name, v in row.items():
            columns[name].append(v)
        columns["ROWTIME"].append(record.get("timestamp", 0))
        columns["ROWPARTITION"].append(0)
        columns["ROWOFFSET"].append(offset)
    fields = [pa.field(c.name, T.to_arrow(c.type)) for c in source.columns]
    fields += [pa.field(n, pa.int64()) for n in ("ROWTIME", "ROWPARTITION", "ROWOFFSET")]
    return pa.table({f.name: pa.array(columns[f.name], f.type) for f in fields}, schema=pa.schema(fields))


def _projection(source: CreateSource, query: CreateAsSelect) -> list[tuple[str, Any, bool]]:
    """(output name, expression, is-key) per output column."""
    from sqlglot import exp

    out: list[tuple[str, Any, bool]] = []
    key_names = {c.name for c in source.columns if c.key}
    generated = 0
    for item in query.select.items:
        e = item.expr
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)):
            out += [(c.name, exp.column(c.name), c.key) for c in source.columns]
            continue
        if item.alias:
            name = item.alias
        elif isinstance(e, exp.Column):
            name = e.name
        elif type(e).__name__ == "Dereference":
            name = e.expression.name
        else:
            name = f"KSQL_COL_{generated}"
            generated += 1
        is_key = isinstance(e, exp.Column) and e.name in key_names
        out.append((name, e, is_key))
    return out


def _skip_non_scalar(query: CreateAsSelect) -> None:
    from sqlglot import exp

    from engine.expressions import function_kind

    for item in query.select.items:
        for node in item.expr.find_all(exp.Anonymous):
            if function_kind(str(node.this)) in ("aggregate", "table"):
                raise Skip("aggregate/table function")


def run_case(con: duckdb.DuckDBPyConnection, file: str, test: dict[str, Any]) -> Outcome:
    """Run one corpus test through the compiler; never raises."""
    name = test.get("name", "?")
    try:
        return _run(con, file, test)
    except Skip as s:
        return Outcome(file, name, "skip", str(s))
    except Exception as e:  # a crash in our code is a failure worth seeing
        return Outcome(file, name, "fail", f"{type(e).__name__}: {e}")


def _run(con: duckdb.DuckDBPyConnection, file: str, test: dict[str, Any]) -> Outcome:
    name = test.get("name", "?")
    stmts = _statements(test)
    source, query = _shape(stmts)
    expected_error = test.get("expectedException")
    table = _input_table(source, test) if not expected_error else None
    scope = Scope.of_columns(
        [(c.name, c.type) for c in source.columns]
        + [("ROWTIME", T.BIGINT), ("ROWPARTITION", T.INTEGER), ("ROWOFFSET", T.BIGINT)],
        source=query.select.from_.alias or query.select.from_.name,
    )
    projection = _projection(source, query)
    _skip_non_scalar(query)
    try:
        compiled = [(n, compile_expression(e, scope), k) for n, e, k in projection]
        where = compile_expression(query.select.where, scope, "WHERE") if query.select.where else None
        if where is not None and where.type.base not in ("BOOLEAN", "NULL"):
            raise ExpressionError(f"Type error in WHERE expression: Should evaluate to boolean but is {where.type.sql()}")
    except ExpressionError as err:
        if expected_error and expected_error.get("message", "") in err.message:
            return Outcome(file, name, "pass", "expected error")
        if expected_error:
            return Outcome(file, name, "fail", f"error {err.message!r} != {expected_error.get('message')!r}")
        return Outcome(file, name, "fail", f"compile: {err.message}")
    if expected_error or table is None:
        raise Skip("expected error not produced by expressions")
    select = ", ".join(f'{c.sql} AS "c{i}"' for i, (_, c, _) in enumerate(compiled)) or "1"
    sql = f"SELECT {select} FROM t" + (f" WHERE {where.sql}" if where else "")
    con.register("t", table)
    try:
        rows = con.sql(sql).fetchall()
    finally:
        con.unregister("t")
    sink = query.properties.get("KAFKA_TOPIC", query.name)
    outputs = [o for o in test.get("outputs", []) if o.get("topic") in (sink, query.name)]
    return _compare(file, name, compiled, rows, outputs)


def _compare(file: str, name: str, compiled: list[Any], rows: list[Any], outputs: list[Any]) -> Outcome:
    if len(rows) != len(outputs):
        return Outcome(file, name, "fail", f"{len(rows)} rows, expected {len(outputs)}")
    for i, (row, out) in enumerate(zip(rows, outputs, strict=True)):
        expected = out.get("value")
        if not isinstance(expected, dict):
            continue
        actual = {n: to_json(v) for (n, _, k), v in zip(compiled, row, strict=True) if not k}
        upper = {k.upper(): v for k, v in actual.items()}
        for key, want in expected.items():
            if key not in actual and key.upper() in upper:
                actual[key] = upper[key.upper()]
            if key not in actual:
                return Outcome(file, name, "fail", f"row {i}: no column {key} in {sorted(actual)}")
            if not same(actual[key], want):
                return Outcome(file, name, "fail", f"row {i} {key}: got {actual[key]!r} want {want!r}")
    return Outcome(file, name, "pass")


def run_corpus(con: duckdb.DuckDBPyConnection, pattern: str = "*.json") -> list[Outcome]:
    """Run every case in every matching corpus file."""
    results: list[Outcome] = []
    for path in sorted(CORPUS.glob(pattern)):
        for test in load_file(path).get("tests", []):
            results.append(run_case(con, path.name, test))
    return results


if __name__ == "__main__":  # python tests/expressions/corpus.py [glob] [-v]
    import sys
    from collections import Counter

    from engine.expressions import setup_connection

    connection = duckdb.connect()
    setup_connection(connection)
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    outcomes = run_corpus(connection, args[0] if args else "*.json")
    for o in outcomes:
        if o.status == "fail" or "-v" in sys.argv and o.status != "pass":
            print(f"{o.status.upper():5} {o.file}: {o.name}: {o.detail[:300]}")
    counts = Counter(o.status for o in outcomes)
    ran = counts["pass"] + counts["fail"]
    print(f"pass {counts['pass']} / {ran} run ({counts['skip']} skipped)")
