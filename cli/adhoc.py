"""Ad hoc SQL: ksqlDB statements first, else read-only DuckDB SQL over the materialised tables.

streamsql's documented superset of ksqlDB pull queries: when a query is not valid ksqlDB (ORDER
BY, DuckDB functions such as ``quantile_cont``, joins of tables ...) and DuckDB can run it as a
read-only statement (SELECT, EXPLAIN, ``COPY ... TO``) over the engine's database, that is the
answer. If both fail, the ksqlDB error is reported, since that is the language users write.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

import duckdb

import parser as sqlparser
from engine import types as t
from engine.errors import KsqlError
from engine.results import RowsResult, StatementResult

if TYPE_CHECKING:
    from engine.engine import Engine

Dialect = Literal["auto", "ksql", "duckdb"]
_READ_ONLY = {"SELECT", "EXPLAIN", "COPY"}
_COPY_FROM = re.compile(r"(?is)^\s*COPY\s+[\w.\"`]+\s*(\([^)]*\))?\s+FROM\b")


class NotReadOnly(KsqlError):
    """DuckDB SQL that would write to the engine's state."""


def _check_read_only(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    statements = con.extract_statements(sql)
    if len(statements) != 1:
        raise NotReadOnly("Ad hoc DuckDB SQL must be exactly one statement.", sql)
    kind = statements[0].type.name
    if kind not in _READ_ONLY or (kind == "COPY" and _COPY_FROM.match(sql)):
        raise NotReadOnly(f"Ad hoc DuckDB SQL is read-only (SELECT, EXPLAIN, COPY ... TO); got {kind}.", sql)


def run_duckdb(engine: Engine, sql: str) -> RowsResult:
    """Run one read-only DuckDB statement over the engine's database (tables named after CTAS)."""
    with engine.lock:
        con = engine.db.cursor()
    try:
        _check_read_only(con, sql)
        rel = con.sql(sql.strip().rstrip(";"))
        if rel is None:
            return RowsResult(sql, [])
        table = rel.to_arrow_table()
    except duckdb.Error as err:
        raise KsqlError(f"DuckDB: {err}", sql) from err
    finally:
        con.close()
    columns = [(f.name, t.from_arrow(f.type)) for f in table.schema]
    rows = [list(r.values()) for r in table.to_pylist()]
    return RowsResult(sql, columns, rows)


def looks_like_ksql_select(sql: str, variables: dict[str, str] | None = None) -> bool:
    """True when ``sql`` parses as ksqlDB statements."""
    try:
        sqlparser.parse(sql, variables)
    except sqlparser.ParseError:
        return False
    return True


def run_query_sql(engine: Engine, sql: str, dialect: Dialect = "auto") -> list[StatementResult | RowsResult]:
    """Run ``sql`` as ksqlDB statements, as DuckDB SQL, or ksqlDB with the DuckDB fallback."""
    if dialect == "duckdb":
        return [run_duckdb(engine, sql)]
    try:
        return list(engine.execute(sql))
    except (sqlparser.ParseError, KsqlError) as ksql_error:
        if dialect == "ksql" or not _may_be_duckdb(sql):
            raise
        try:
            return [run_duckdb(engine, sql)]
        except KsqlError:
            raise ksql_error from None


def _may_be_duckdb(sql: str) -> bool:
    """Only queries fall back: a failed CREATE/INSERT must report its ksqlDB error."""
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return head in ("SELECT", "WITH", "FROM", "EXPLAIN", "COPY", "SHOW", "DESCRIBE", "SUMMARIZE", "PIVOT")
