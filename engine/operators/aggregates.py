"""ksqlDB's aggregate functions as SQL templates over DuckDB window functions.

Each aggregate keeps a small state (a few typed columns). For a batch of events, its
``running`` expressions are aggregate functions evaluated ``OVER w`` (per group and window, in
offset order, from the first event of the batch to the current one); ``combine`` folds the
stored state (``p``, may be NULL) with that running partial (``r``); ``result`` turns a state into
the function's value. So one SQL statement yields every intermediate value, one output per
input event, as ksqlDB emits with caching off. ``merge`` folds many states into one (session
windows joining). ``undoable`` functions take the ``__SIGN`` column (-1 retracts a table row).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import types as t
from engine.errors import KsqlStatementError
from parser.statements import SqlType

SIGN = '"__SIGN"'
LIST_LIMIT = 1000  # ksql.functions.collect_list.limit / collect_set.limit


@dataclass(frozen=True, slots=True)
class AggCall:
    """One aggregate call of a query: its function, compiled argument SQL and constant params."""

    index: int
    name: str
    args: tuple[str, ...]  # SQL of each non-constant argument over the input batch
    arg_types: tuple[SqlType, ...]
    params: tuple[Any, ...]  # constant arguments (TOPK's k, EARLIEST_BY_OFFSET's n / ignore nulls)
    result_type: SqlType
    text: str  # ksqlDB's rendering, for messages
    table_source: bool = False  # events may retract (``__SIGN`` -1): list states must support removal
    limit: int = LIST_LIMIT  # ksql.functions.collect_list.limit / collect_set.limit


@dataclass(frozen=True, slots=True)
class AggImpl:
    """SQL templates of one aggregate (see the module docstring)."""

    state: tuple[tuple[str, str], ...]  # (suffix, DuckDB type)
    running: Callable[[list[str]], list[str]]
    combine: Callable[[list[str], list[str]], list[str]]
    result: Callable[[list[str]], str]
    merge: Callable[[list[str]], list[str]]
    undoable: bool = False


def _add(p: str, r: str, zero: str = "0") -> str:
    return f"(coalesce({p}, {zero}) + coalesce({r}, {zero}))"


def _pick(fn: str, p: str, r: str) -> str:
    return f"(CASE WHEN {p} IS NULL THEN {r} WHEN {r} IS NULL THEN {p} ELSE {fn}({p}, {r}) END)"


def _ordered_distinct(lst: str) -> str:
    # Distinct elements keeping first occurrences in order (COLLECT_SET, TOPKDISTINCT inputs).
    return f"list_filter({lst}, lambda x, i: list_position({lst}, x) = i)"


def _concat(p: str, r: str) -> str:
    return f"list_concat(coalesce({p}, []), coalesce({r}, []))"


def _nonnull(lst: str) -> str:
    return f"list_filter({lst}, lambda x: x IS NOT NULL)"


def _count(call: AggCall) -> AggImpl:
    counted = SIGN if not call.args else f"CASE WHEN {call.args[0]} IS NOT NULL THEN {SIGN} ELSE 0 END"
    return AggImpl((("n", "BIGINT"),), lambda a: [f"sum({counted})"], lambda p, r: [_add(p[0], r[0])],
                   lambda s: f"coalesce({s[0]}, 0)", lambda s: [f"sum({s[0]})"], undoable=True)


def _sum(call: AggCall) -> AggImpl:
    duck = t.to_duckdb(call.result_type)
    zero = f"CAST(0 AS {duck})"
    return AggImpl((("s", duck),), lambda a: [f"sum({SIGN} * {a[0]})"],
                   lambda p, r: [f"CAST({_add(p[0], r[0], zero)} AS {duck})"],
                   lambda s: f"coalesce({s[0]}, {zero})", lambda s: [f"sum({s[0]})"], undoable=True)


def _avg(call: AggCall) -> AggImpl:
    duck = t.to_duckdb(call.result_type)
    return AggImpl((("s", "DOUBLE"), ("n", "BIGINT")),
                   lambda a: [f"sum({SIGN} * CAST({a[0]} AS DOUBLE))",
                              f"sum(CASE WHEN {a[0]} IS NOT NULL THEN {SIGN} ELSE 0 END)"],
                   lambda p, r: [_add(p[0], r[0]), _add(p[1], r[1])],
                   lambda s: f"CAST(CASE WHEN coalesce({s[1]}, 0) = 0 THEN 0 ELSE {s[0]} / {s[1]} END AS {duck})",
                   lambda s: [f"sum({s[0]})", f"sum({s[1]})"], undoable=True)


def _minmax(call: AggCall) -> AggImpl:
    fn = "least" if call.name == "MIN" else "greatest"
    agg = call.name.lower()
    return AggImpl((("v", t.to_duckdb(call.result_type)),), lambda a: [f"{agg}({a[0]})"],
                   lambda p, r: [_pick(fn, p[0], r[0])], lambda s: s[0], lambda s: [f"{agg}({s[0]})"])


def _by_offset(call: AggCall) -> AggImpl:
    earliest = call.name == "EARLIEST_BY_OFFSET"
    n = next((p for p in call.params if isinstance(p, int) and not isinstance(p, bool)), None)
    ignore_nulls = next((p for p in call.params if isinstance(p, bool)), True)
    item = t.to_duckdb(call.arg_types[0])
    if n is None:
        pick = "first_value" if earliest else "last_value"
        nulls = " IGNORE NULLS" if ignore_nulls else ""
        if earliest:
            comb: Callable[[list[str], list[str]], list[str]] = lambda p, r: [  # noqa: E731
                f"CASE WHEN coalesce({p[1]}, false) THEN {p[0]} ELSE {r[0]} END",
                f"(coalesce({p[1]}, false) OR coalesce({r[1]}, false))"]
        else:
            comb = lambda p, r: [  # noqa: E731
                f"CASE WHEN coalesce({r[1]}, false) THEN {r[0]} ELSE {p[0]} END",
                f"(coalesce({p[1]}, false) OR coalesce({r[1]}, false))"]
        has_sql = f"bool_or({call.args[0]} IS NOT NULL)" if ignore_nulls else "bool_or(true)"
        return AggImpl((("v", item), ("has", "BOOLEAN")),
                       lambda a: [f"{pick}({a[0]}{nulls})", has_sql],
                       comb, lambda s: s[0],
                       lambda s: [f"{'first' if earliest else 'last'}({s[0]})", f"bool_or({s[1]})"])
    values = (lambda lst: _nonnull(lst)) if ignore_nulls else (lambda lst: lst)
    keep = (f"list_slice({{}}, 1, {n})" if earliest else f"list_slice({{}}, -{n}, -1)")
    return AggImpl((("l", f"{item}[]"),), lambda a: [f"list({a[0]})"],
                   lambda p, r: [keep.format(_concat(p[0], values(r[0])))],
                   lambda s: f"coalesce({s[0]}, [])", lambda s: [keep.format(f"flatten(list({s[0]}))")])


def _apply_ops(prior: str, ops: str) -> str:
    """Fold signed ops ({s, v}) into a list: +1 appends v, -1 removes its first occurrence."""
    pos = "list_position(acc, op.v)"
    removed = f"list_concat(list_slice(acc, 1, {pos} - 1), list_slice(acc, {pos} + 1, len(acc)))"
    step = f"CASE WHEN op.s > 0 THEN list_append(acc, op.v) WHEN {pos} IS NULL THEN acc ELSE {removed} END"
    return f"list_reduce(coalesce({ops}, []), lambda acc, op: {step}, coalesce({prior}, []))"


def _collect_undoable(call: AggCall, item: str, distinct: bool) -> AggImpl:
    # A table's rows come and go: keep every contributed value (a multiset) so a retraction can
    # remove one occurrence; COLLECT_SET's distinct view is taken when reading the result.
    shape = (lambda lst: _ordered_distinct(lst)) if distinct else (lambda lst: lst)
    return AggImpl((("l", f"{item}[]"),),
                   lambda a: [f"list({{'s': {SIGN}, 'v': {a[0]}}}) FILTER (WHERE {a[0]} IS NOT NULL)"],
                   lambda p, r: [_apply_ops(p[0], r[0])],
                   lambda s: f"list_slice({shape(f'coalesce({s[0]}, [])')}, 1, {call.limit})",
                   lambda s: [f"flatten(list({s[0]}))"], undoable=True)


def _collect(call: AggCall) -> AggImpl:
    item = t.to_duckdb(call.arg_types[0])
    distinct = call.name == "COLLECT_SET"
    if call.table_source:
        return _collect_undoable(call, item, distinct)
    shape = (lambda lst: _ordered_distinct(lst)) if distinct else (lambda lst: lst)
    limit = f"list_slice({{}}, 1, {call.limit})"
    return AggImpl((("l", f"{item}[]"),), lambda a: [f"list({a[0]})"],
                   lambda p, r: [limit.format(shape(_concat(p[0], _nonnull(r[0]) if distinct else r[0])))],
                   lambda s: f"coalesce({s[0]}, [])",
                   lambda s: [limit.format(shape(f"flatten(list({s[0]}))"))])


def _count_distinct(call: AggCall) -> AggImpl:
    item = t.to_duckdb(call.arg_types[0])
    return AggImpl((("l", f"{item}[]"),), lambda a: [f"list({a[0]})"],
                   lambda p, r: [f"list_distinct({_concat(p[0], r[0])})"],
                   lambda s: f"CAST(len(coalesce({s[0]}, [])) AS BIGINT)",
                   lambda s: [f"list_distinct(flatten(list({s[0]})))"])


def _topk(call: AggCall) -> AggImpl:
    item = t.to_duckdb(call.arg_types[0])
    k = int(call.params[0]) if call.params else 1
    distinct = call.name == "TOPKDISTINCT"

    def top(lst: str) -> str:
        body = f"list_distinct({_nonnull(lst)})" if distinct else _nonnull(lst)
        return f"list_slice(list_reverse_sort({body}), 1, {k})"

    return AggImpl((("l", f"{item}[]"),), lambda a: [f"list({a[0]})"],
                   lambda p, r: [top(_concat(p[0], r[0]))], lambda s: f"coalesce({s[0]}, [])",
                   lambda s: [top(f"flatten(list({s[0]}))")])


def _histogram(call: AggCall) -> AggImpl:
    def merge_maps(a: str, b: str) -> str:
        keys = f"list_distinct(list_concat(map_keys(coalesce({a}, MAP {{}})), map_keys(coalesce({b}, MAP {{}}))))"
        value = f"coalesce(coalesce({a}, MAP {{}})[k], 0) + coalesce(coalesce({b}, MAP {{}})[k], 0)"
        return f"map_from_entries(list_transform({keys}, lambda k: {{'key': k, 'value': CAST({value} AS BIGINT)}}))"

    return AggImpl((("m", "MAP(VARCHAR, BIGINT)"),), lambda a: [f"histogram({a[0]})"],
                   lambda p, r: [merge_maps(p[0], r[0])], lambda s: f"coalesce({s[0]}, MAP {{}})",
                   lambda s: [f"list_reduce(list({s[0]}), lambda x, y: {merge_maps('x', 'y')})"])


def _moments(call: AggCall) -> AggImpl:
    formula = {
        "VARIANCE": "CASE WHEN {n} > 1 THEN ({ss} - {s} * {s} / {n}) / ({n} - 1) END",
        "STDDEV_SAMP": "CASE WHEN {n} > 1 THEN sqrt(greatest(({ss} - {s} * {s} / {n}) / ({n} - 1), 0)) END",
        "STDDEV_POP": "CASE WHEN {n} > 0 THEN sqrt(greatest(({ss} - {s} * {s} / {n}) / {n}, 0)) END",
    }[call.name]
    return AggImpl((("n", "BIGINT"), ("s", "DOUBLE"), ("ss", "DOUBLE")),
                   lambda a: [f"sum(CASE WHEN {a[0]} IS NOT NULL THEN {SIGN} ELSE 0 END)",
                              f"sum({SIGN} * CAST({a[0]} AS DOUBLE))",
                              f"sum({SIGN} * CAST({a[0]} AS DOUBLE) * CAST({a[0]} AS DOUBLE))"],
                   lambda p, r: [_add(p[i], r[i]) for i in range(3)],
                   lambda s: formula.format(n=s[0], s=s[1], ss=s[2]),
                   lambda s: [f"sum({c})" for c in s], undoable=True)


def _correlation(call: AggCall) -> AggImpl:
    def run(a: list[str]) -> list[str]:
        x, y = (f"CAST({v} AS DOUBLE)" for v in a[:2])
        both = f"({a[0]} IS NOT NULL AND {a[1]} IS NOT NULL)"
        terms = ["1", x, y, f"{x} * {x}", f"{y} * {y}", f"{x} * {y}"]
        return [f"sum(CASE WHEN {both} THEN {SIGN} * {term} ELSE 0 END)" for term in terms]

    def result(s: list[str]) -> str:
        n, sx, sy, sxx, syy, sxy = s
        cov = f"({sxy} - {sx} * {sy} / {n})"
        return (f"CASE WHEN coalesce({n}, 0) < 2 THEN CAST('NaN' AS DOUBLE) ELSE {cov} / "
                f"sqrt(({sxx} - {sx} * {sx} / {n}) * ({syy} - {sy} * {sy} / {n})) END")

    return AggImpl(tuple((c, "DOUBLE") for c in ("n", "sx", "sy", "sxx", "syy", "sxy")), run,
                   lambda p, r: [_add(p[i], r[i]) for i in range(6)], result,
                   lambda s: [f"sum({c})" for c in s], undoable=True)


def _attr(call: AggCall) -> AggImpl:
    duck = t.to_duckdb(call.result_type)
    return AggImpl((("lo", duck), ("hi", duck)), lambda a: [f"min({a[0]})", f"max({a[0]})"],
                   lambda p, r: [_pick("least", p[0], r[0]), _pick("greatest", p[1], r[1])],
                   lambda s: f"CASE WHEN {s[0]} = {s[1]} THEN {s[0]} END",
                   lambda s: [f"min({s[0]})", f"max({s[1]})"])


_FACTORIES: dict[str, Callable[[AggCall], AggImpl]] = {
    "COUNT": _count, "SUM": _sum, "AVG": _avg, "MIN": _minmax, "MAX": _minmax,
    "EARLIEST_BY_OFFSET": _by_offset, "LATEST_BY_OFFSET": _by_offset,
    "COLLECT_LIST": _collect, "COLLECT_SET": _collect, "COUNT_DISTINCT": _count_distinct,
    "TOPK": _topk, "TOPKDISTINCT": _topk, "HISTOGRAM": _histogram,
    "VARIANCE": _moments, "STDDEV_SAMP": _moments, "STDDEV_POP": _moments,
    "CORRELATION": _correlation, "ATTR": _attr,
}


def implement(call: AggCall) -> AggImpl:
    """The SQL templates for ``call``."""
    factory = _FACTORIES.get(call.name)
    if factory is None:
        raise KsqlStatementError(f"Can't find any functions with the name '{call.name}'")
    return factory(call)


def supported(name: str) -> bool:
    """True when streamsql implements the aggregate ``name``."""
    return name in _FACTORIES
