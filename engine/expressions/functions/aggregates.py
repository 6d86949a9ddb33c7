"""Aggregate (UDAF) and table (UDTF) functions: metadata and return types only.

The engine's aggregate and table-function operators evaluate them; the planner asks
``function_kind(name)`` and ``return_type(name, arg_types)``.
"""

from __future__ import annotations

from engine.expressions.functions.registry import FunctionDef, FunctionKind, register
from engine.expressions.functions.signatures import Signature, sig


def _add(name: str, kind: FunctionKind, description: str, signatures: list[Signature]) -> None:
    category = "AGGREGATE" if kind == "aggregate" else "TABLE"
    register(FunctionDef(name, kind, category, description, tuple(signatures)))


_NUMERIC = ("INTEGER", "BIGINT", "DOUBLE", "DECIMAL")


def _aggregates() -> None:
    _add("COUNT", "aggregate", "Count rows, or non-null values.", [sig(" -> BIGINT"), sig("ANY -> BIGINT")])
    _add("COUNT_DISTINCT", "aggregate", "Approximate count of distinct values.", [sig("ANY -> BIGINT")])
    _add("SUM", "aggregate", "Sum of values.", [sig(f"{t} -> {t}") for t in _NUMERIC])
    _add("AVG", "aggregate", "Average of values.", [sig(f"{t} -> DOUBLE") for t in _NUMERIC[:3]]
         + [sig("DECIMAL -> DECIMAL")])
    for name, what in (("MIN", "Minimum"), ("MAX", "Maximum")):
        _add(name, "aggregate", f"{what} value.", [sig("T -> T")])
    _add("TOPK", "aggregate", "The top k values.", [sig("T, INTEGER -> ARRAY<T>")])
    _add("TOPKDISTINCT", "aggregate", "The top k distinct values.", [sig("T, INTEGER -> ARRAY<T>")])
    _add("COLLECT_LIST", "aggregate", "All values as an array.", [sig("T -> ARRAY<T>")])
    _add("COLLECT_SET", "aggregate", "Distinct values as an array.", [sig("T -> ARRAY<T>")])
    for name, which in (("EARLIEST_BY_OFFSET", "earliest"), ("LATEST_BY_OFFSET", "latest")):
        _add(name, "aggregate", f"The {which} value by offset (or the n {which}).", [
            sig("T -> T"), sig("T, BOOLEAN -> T"), sig("T, INTEGER -> ARRAY<T>"),
            sig("T, INTEGER, BOOLEAN -> ARRAY<T>")])
    _add("HISTOGRAM", "aggregate", "Count of each distinct string value.", [sig("STRING -> MAP<STRING, BIGINT>")])
    for name in ("STDDEV_SAMP", "STDDEV_POP", "VARIANCE"):
        _add(name, "aggregate", f"{name.replace('_', ' ').title()} of values.",
             [sig(f"{t} -> DOUBLE") for t in _NUMERIC[:3]])
    _add("CORRELATION", "aggregate", "Correlation of two columns.", [sig("DOUBLE, DOUBLE -> DOUBLE")])
    _add("ATTR", "aggregate", "The value if every row has the same one, else NULL.", [sig("T -> T")])


def _table_functions() -> None:
    _add("EXPLODE", "table", "One row per array element.", [sig("ARRAY<T> -> T")])
    _add("CUBE_EXPLODE", "table", "One row per combination of nulled-out array elements.", [
        sig("ARRAY<T> -> ARRAY<T>")])


def load() -> None:
    """Register aggregate and table function metadata."""
    _aggregates()
    _table_functions()
