"""Fixtures: a DuckDB connection set up for compiled expressions and an evaluator."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ksqlexpr import parse  # noqa: E402

from engine import types as T  # noqa: E402
from engine.expressions import Compiled, Scope, compile_expression, setup_connection  # noqa: E402

Evaluate = Callable[..., list[Any]]


@pytest.fixture(scope="session")
def con() -> duckdb.DuckDBPyConnection:
    """One DuckDB connection with the expression macros installed."""
    connection = duckdb.connect()
    setup_connection(connection)
    return connection


def compile_text(text: str, table: pa.Table) -> Compiled:
    """Compile ksql ``text`` against the columns of ``table``."""
    scope = Scope.of_columns([(f.name, T.from_arrow(f.type)) for f in table.schema])
    return compile_expression(parse(text), scope)


@pytest.fixture()
def evaluate(con: duckdb.DuckDBPyConnection) -> Evaluate:
    """``evaluate(text, table)`` -> list of Python values, one per row of ``table``."""

    def run(text: str, table: pa.Table | None = None) -> list[Any]:
        table = table if table is not None else pa.table({"DUMMY": [0]})
        compiled = compile_text(text, table)
        con.register("t", table)
        try:
            return [row[0] for row in con.sql(f"SELECT {compiled.sql} AS r FROM t").fetchall()]
        finally:
            con.unregister("t")

    return run
