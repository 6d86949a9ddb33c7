"""DuckDB macros and Arrow UDFs that compiled expressions rely on.

The engine calls ``setup_connection(con)`` once per DuckDB connection before running any
compiled SQL. Macros are inlined by DuckDB (fully vectorised). There are no Python UDFs:
DuckDB's Arrow UDFs need numpy, which is not a project dependency, and macros keep every
function vectorised.
"""

from __future__ import annotations

import duckdb

_MACROS: list[str] = [
    # Java int/long overflow wraps around; compute in a wider type, then wrap.
    "ksql_wrap_int(x) AS CAST(((CAST(x AS HUGEINT) + 2147483648) % 4294967296 + 4294967296)"
    " % 4294967296 - 2147483648 AS INTEGER)",
    "ksql_wrap_bigint(x) AS CAST(((CAST(x AS HUGEINT) + CAST('9223372036854775808' AS HUGEINT))"
    " % CAST('18446744073709551616' AS HUGEINT) + CAST('18446744073709551616' AS HUGEINT))"
    " % CAST('18446744073709551616' AS HUGEINT) - CAST('9223372036854775808' AS HUGEINT) AS BIGINT)",
    # Java's double % is fmod, and x % 0.0 is NaN rather than an error.
    "ksql_fmod(a, b) AS CASE WHEN b = 0 THEN CAST('NaN' AS DOUBLE) ELSE fmod(a, b) END",
    "ksql_parse_boolean(s) AS CASE WHEN lower(trim(s)) IN ('true', 't', 'yes', 'y') THEN true"
    " WHEN lower(trim(s)) IN ('false', 'f', 'no', 'n') THEN false END",
    # ksqlDB accepts ISO-8601 text with an optional 'T', zone or 'Z' suffix.
    "ksql_parse_timestamp(s) AS coalesce(TRY_CAST(s AS TIMESTAMP),"
    " TRY_CAST(timezone('UTC', TRY_CAST(s AS TIMESTAMPTZ)) AS TIMESTAMP))",
    # Java Double.toString: plain notation in [1e-3, 1e7), otherwise d.dddE[-]n.
    "ksql_double_str(x) AS CASE WHEN x IS NULL THEN NULL WHEN isnan(x) THEN 'NaN'"
    " WHEN x = CAST('inf' AS DOUBLE) THEN 'Infinity' WHEN x = CAST('-inf' AS DOUBLE) THEN '-Infinity'"
    " WHEN x = 0 OR (abs(x) >= 0.001 AND abs(x) < 10000000) THEN CAST(x AS VARCHAR)"
    " ELSE ksql_double_sci(x) END",
    # MAP(...) and TRANSFORM(map) may produce NULL or duplicate keys; ksqlDB keeps the last one.
    "ksql_map_from_entries(entries) AS map_from_entries(list_filter(entries, lambda e, i: e.key IS NOT NULL"
    " AND NOT list_contains(list_transform(list_slice(entries, i + 1, len(entries)), lambda f: f.key), e.key)))",
]

def macro(definition: str) -> None:
    """Declare a DuckDB macro (``name(args) AS expr``) created by ``setup_connection``."""
    if definition not in _MACROS:
        _MACROS.append(definition)


_ORDERED: list[str] | None = None  # _MACROS in an order where each depends only on earlier ones


def _dependency_order(con: duckdb.DuckDBPyConnection, kind: str) -> list[str]:
    """Create the macros one by one, retrying those whose dependencies come later in the list."""
    ordered: list[str] = []
    pending = list(_MACROS)
    while pending:
        failed: list[str] = []
        for definition in pending:
            try:
                con.execute(f"CREATE OR REPLACE {kind} {definition}")
                ordered.append(definition)
            except duckdb.CatalogException:
                failed.append(definition)
        if len(failed) == len(pending):
            con.execute(f"CREATE OR REPLACE {kind} {failed[0]}")  # raise the real error
        pending = failed
    return ordered


def setup_connection(con: duckdb.DuckDBPyConnection, temp: bool = True) -> None:
    """Register every macro the compiled SQL needs on ``con`` (idempotent).

    ``temp=True`` makes them private to this connection; ``temp=False`` creates them in the
    connection's current database, where every cursor of that database instance sees them
    (creating the macros costs ~40 ms, so the engine does it once per process).
    """
    global _ORDERED
    from engine.expressions.functions.registry import all_functions

    all_functions()  # importing the families declares their macros and UDFs
    kind = "TEMP MACRO" if temp else "MACRO"
    if _ORDERED is None or len(_ORDERED) != len(_MACROS):
        _ORDERED = _dependency_order(con, kind)
        return
    con.execute(";\n".join(f"CREATE OR REPLACE {kind} {d}" for d in _ORDERED))
