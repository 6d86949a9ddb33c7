"""Plans for aggregations: GROUP BY keys, aggregate calls, windows, HAVING, output projection.

The select list is rewritten so that each aggregate call becomes a column ``__AGG<i>`` and each
GROUP BY expression a column ``__K<i>``; the rewritten expressions are compiled against the
post-aggregation scope (those columns plus WINDOWSTART / WINDOWEND), the aggregate arguments
and GROUP BY expressions against the source. A source column left over outside an aggregate
is ksqlDB's "Non-aggregate SELECT expression(s) not part of GROUP BY" error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from engine import types as t
from engine.catalog import WINDOW_BOUNDS, Column, Source
from engine.errors import KsqlError, KsqlStatementError
from engine.expressions import (
    Compiled,
    ExpressionError,
    UnknownColumnError,
    compile_expression,
    format_expression,
    function_kind,
    return_type,
)
from engine.expressions.scope import Scope, ScopeEntry, quote_ident
from engine.operators.aggregates import AggCall, supported
from engine.planner.projection import (
    NamedExpr,
    check_unique,
    derived_name,
    expand_select,
    expand_struct_stars,
    strip_qualifiers,
)
from engine.planner.scope import source_scope
from parser.statements import Select, WindowSpec

DEFAULT_GRACE_MS = 24 * 3600 * 1000
UNDOABLE = frozenset({"COUNT", "SUM", "AVG", "STDDEV_SAMP", "STDDEV_POP", "VARIANCE", "CORRELATION",
                      "COLLECT_LIST", "COLLECT_SET"})
# Aggregates whose intermediate state is a struct, list or map: formats that only carry
# primitives (DELIMITED, KAFKA) cannot hold them (ksqlDB's check).
COMPLEX_INTERMEDIATE = frozenset({"AVG", "STDDEV_SAMP", "STDDEV_POP", "VARIANCE", "CORRELATION", "TOPK",
                                  "TOPKDISTINCT", "COLLECT_LIST", "COLLECT_SET", "HISTOGRAM", "COUNT_DISTINCT",
                                  "EARLIEST_BY_OFFSET", "LATEST_BY_OFFSET"})
WINDOW_BOUNDS_MISUSE = ("Window bounds column {} can only be used in the SELECT clause of windowed aggregations")


@dataclass(frozen=True, slots=True)
class AggregatePlan:
    """Everything the aggregate operator needs, compiled to SQL."""

    source: Source
    keys: list[tuple[str, Compiled]]  # output key name, GROUP BY expression over the source batch
    calls: list[AggCall]
    values: list[tuple[str, Compiled]]  # value columns over __K<i>, __AGG<i>, WINDOWSTART, WINDOWEND
    having: Compiled | None
    where: Compiled | None
    window: WindowSpec | None
    grace_ms: int
    emit_final: bool
    select_order: tuple[str, ...]

    @property
    def key_columns(self) -> list[Column]:
        """Output key schema."""
        return [Column(n, c.type, "KEY") for n, c in self.keys]

    @property
    def value_columns(self) -> list[Column]:
        """Output value schema."""
        return [Column(n, c.type, "VALUE") for n, c in self.values]


def is_aggregate_call(node: exp.Expression) -> bool:
    """True for a call of an aggregate function (COUNT, SUM, ...)."""
    return isinstance(node, exp.Anonymous) and function_kind(str(node.this).upper()) == "aggregate"


def has_aggregates(select: Select) -> bool:
    """True when the select list or HAVING calls an aggregate function."""
    nodes = [i.expr for i in select.items] + ([select.having] if select.having is not None else [])
    return any(isinstance(n, exp.Expression) and is_aggregate_call(n) for node in nodes for n in node.walk())


def _compile(expr: exp.Expression, scope: Scope, clause: str = "SELECT") -> Compiled:
    try:
        return compile_expression(expr, scope, clause)
    except ExpressionError as err:
        raise KsqlStatementError(str(err)) from err


class _Calls:
    """Collects distinct aggregate calls, compiling their arguments against the source."""

    def __init__(self, scope: Scope, source: Source, config: dict[str, str]) -> None:
        self.scope = scope
        self.source = source
        self.config = config
        self.calls: list[AggCall] = []
        self._seen: dict[str, int] = {}

    def add(self, node: exp.Anonymous) -> exp.Expression:
        name = str(node.this).upper()
        text = format_expression(node)
        _check_window_bounds(node.expressions)
        if text in self._seen:
            return _ref(f"__AGG{self._seen[text]}")
        for inner in node.expressions:
            if any(isinstance(n, exp.Expression) and is_aggregate_call(n) for n in inner.walk()):
                raise KsqlStatementError(f"Aggregate functions can not be nested: {text}")
        if not supported(name):
            raise KsqlStatementError(f"Can't find any functions with the name '{name}'")
        call = self._build(name, node, text)
        self._seen[text] = call.index
        self.calls.append(call)
        return _ref(f"__AGG{call.index}")

    def _build(self, name: str, node: exp.Anonymous, text: str) -> AggCall:
        raw = list(node.expressions)
        if name == "COUNT" and (not raw or isinstance(raw[0], exp.Star) or isinstance(raw[0], exp.Literal)):
            raw = []  # COUNT(*), COUNT() and COUNT(1) count rows
        columns = raw[:2] if name == "CORRELATION" else raw[:1]
        params = tuple(_literal(p) for p in raw[len(columns):])
        compiled = [_compile(a, self.scope) for a in columns]
        arg_types = [c.type for c in compiled] + [_param_type(p) for p in params]
        try:
            result = return_type(name, arg_types)
        except ExpressionError as err:
            raise KsqlStatementError(str(err)) from err
        limit = int(self.config.get(f"ksql.functions.{name.lower()}.limit", 1000))
        return AggCall(len(self.calls), name, tuple(c.sql for c in compiled), tuple(c.type for c in compiled),
                       params, result, text, table_source=self.source.kind == "TABLE", limit=limit)


def _check_window_bounds(nodes: list[exp.Expression] | tuple[exp.Expression, ...]) -> None:
    """WINDOWSTART/WINDOWEND may appear only as SELECT expressions of a windowed aggregation."""
    for node in nodes:
        for col in node.find_all(exp.Column):
            if col.name in WINDOW_BOUNDS:
                raise KsqlStatementError(WINDOW_BOUNDS_MISUSE.format(col.name))


def _literal(node: exp.Expression) -> object:
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        return int(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return -int(node.this.this)
    raise KsqlStatementError(f"Aggregate function parameters must be literals: {format_expression(node)}")


def _param_type(value: object) -> t.SqlType:
    return t.BOOLEAN if isinstance(value, bool) else t.INTEGER


def _ref(name: str) -> exp.Column:
    return exp.Column(this=exp.Identifier(this=name, quoted=True))


def _rewrite(expr: exp.Expression, group: list[exp.Expression], calls: _Calls) -> exp.Expression:
    """Replace aggregate calls and GROUP BY expressions by post-aggregation columns."""
    canon = [strip_qualifiers(g) for g in group]

    def visit(node: exp.Expression) -> exp.Expression:
        if is_aggregate_call(node):
            return calls.add(node)  # type: ignore[arg-type]
        stripped = strip_qualifiers(node)
        for i, g in enumerate(canon):
            if stripped == g:
                return _ref(f"__K{i}")
        return node

    return expr.copy().transform(visit)


def _post_scope(keys: list[tuple[str, Compiled]], calls: list[AggCall], windowed: bool) -> Scope:
    entries = [ScopeEntry(None, f"__K{i}", quote_ident(f"__K{i}"), c.type) for i, (_, c) in enumerate(keys)]
    entries += [ScopeEntry(None, f"__AGG{c.index}", quote_ident(f"__AGG{c.index}"), c.result_type) for c in calls]
    if windowed:
        entries += [ScopeEntry(None, n, quote_ident(internal), ty)
                    for (n, ty), internal in zip(WINDOW_BOUNDS.items(), ("__WS", "__WE"), strict=True)]
    return Scope(entries)


def _compile_post(expr: exp.Expression, scope: Scope, clause: str) -> Compiled:
    try:
        return compile_expression(expr, scope, clause)
    except UnknownColumnError as err:
        if clause == "HAVING":
            raise KsqlStatementError(f"Non-aggregate HAVING expression not part of GROUP BY: {err.name}") from err
        raise KsqlStatementError(f"Non-aggregate SELECT expression(s) not part of GROUP BY: {err.name}") from err
    except ExpressionError as err:
        prefix = "Error in HAVING expression: " if clause == "HAVING" else ""
        raise KsqlStatementError(f"{prefix}{err}") from err


def _check_group_by(group: tuple[exp.Expression, ...]) -> None:
    if len(group) == 1 and isinstance(group[0], exp.Tuple) and not group[0].expressions:
        raise KsqlStatementError("GROUP BY requires at least one expression")
    for g in group:
        for n in g.find_all(exp.Anonymous):
            if is_aggregate_call(n):
                raise KsqlStatementError(f"GROUP BY does not support aggregate functions: "
                                         f"{str(n.this).upper()} is an aggregate function.")


def _key_names(items: list[NamedExpr], group: tuple[exp.Expression, ...]) -> tuple[list[str | None], set[int]]:
    """Output names of the GROUP BY keys (from matching select items; None if not selected)."""
    canon = [strip_qualifiers(i.expr) for i in items]
    names: list[str | None] = []
    used: set[int] = set()
    for g in group:
        target = strip_qualifiers(g)
        match = next((i for i, c in enumerate(canon) if c == target and i not in used), None)
        if match is not None:
            used.add(match)
        names.append(items[match].name if match is not None else None)
    return names, used


def _resolve_key_names(names: list[str | None], group: tuple[exp.Expression, ...], persistent: bool,
                       sink: str | None) -> list[str]:
    """Unselected GROUP BY keys: an error for persistent queries, derived names otherwise."""
    out: list[str] = []
    for name, g in zip(names, group, strict=True):
        if name is None and persistent:
            text = format_expression(g)
            raise KsqlStatementError(f"The query used to build `{sink or 'OUTPUT'}` must include the grouping "
                                     f"expression {text} in its projection (eg, SELECT {text}...).")
        out.append(name or derived_name(g) or f"KSQL_COL_{len(out)}")
    return out


_POST_COLUMNS = re.compile(r"^(__K\d+|__AGG\d+|WINDOWSTART|WINDOWEND)$")


def _check_non_aggregates(originals: list[exp.Expression], rewritten: list[exp.Expression]) -> None:
    """Select expressions still reading source columns outside aggregates are ksqlDB errors."""
    bad = [format_expression(o) for o, r in zip(originals, rewritten, strict=True)
           if any(not _POST_COLUMNS.match(c.name) for c in r.find_all(exp.Column))]
    if bad:
        raise KsqlStatementError(f"Non-aggregate SELECT expression(s) not part of GROUP BY: {', '.join(bad)}\n"
                                 f"Either add the column(s) to the GROUP BY or remove them from the SELECT.")


def plan_aggregate(select: Select, source: Source, persistent: bool, sink: str | None = None,
                   config: dict[str, str] | None = None) -> AggregatePlan:
    """Plan a GROUP BY query (stream or table source, optionally windowed)."""
    if not select.group_by:
        found = [format_expression(n) for i in select.items for n in i.expr.find_all(exp.Anonymous)
                 if is_aggregate_call(n)]
        text = ", ".join(c.replace("COUNT(*)", "COUNT(ROWTIME)") for c in found)
        raise KsqlStatementError(f"CREATE TABLE AS SELECT statement does not support aggregate function [{text}] "
                                 f"without a GROUP BY clause.")
    if select.emit == "FINAL" and select.window is None:
        raise KsqlError("EMIT FINAL is only supported for windowed aggregations.")
    _check_group_by(select.group_by)
    _check_window_bounds(select.group_by + ((select.having,) if select.having is not None else ())
                         + ((select.where,) if select.where is not None else ()))
    alias = select.from_.alias
    scope = source_scope(source, alias)
    items = expand_select(expand_struct_stars(select.items, scope), {alias or source.name: source}, persistent)
    if any(str(n.this).upper() in ("EXPLODE", "CUBE_EXPLODE") for i in items for n in i.expr.find_all(exp.Anonymous)):
        raise KsqlStatementError("Table functions cannot be used with aggregations.")
    selected, key_items = _key_names(items, select.group_by)
    calls = _Calls(scope, source, config or {})
    group = list(select.group_by)
    value_items = [i for idx, i in enumerate(items) if idx not in key_items]
    rewritten = [(i.name, _rewrite(i.expr, group, calls)) for i in value_items]
    _check_non_aggregates([i.expr for i in value_items], [r for _, r in rewritten])
    key_names = _resolve_key_names(selected, select.group_by, persistent, sink)
    keys = [(n, _compile(g, scope, "GROUP BY")) for n, g in zip(key_names, select.group_by, strict=True)]
    having_expr = _rewrite(select.having, group, calls) if select.having is not None else None
    if not calls.calls:
        raise KsqlStatementError("GROUP BY requires aggregate functions in either the SELECT or HAVING clause.")
    if source.value_format in ("DELIMITED", "KAFKA") and any(c.name in COMPLEX_INTERMEDIATE for c in calls.calls):
        raise KsqlError("One of the functions used in the statement has an intermediate type that the value format "
                        "can not handle. Please remove the function or change the format.")
    if source.kind == "TABLE":
        bad = list(dict.fromkeys(c.name for c in calls.calls if c.name not in UNDOABLE))
        if bad:
            listed = bad[0] if len(bad) == 1 else f"{', '.join(bad[:-1])} and {bad[-1]}"
            raise KsqlStatementError(f"The aggregation functions {listed} cannot be applied "
                                     f"to a table source, only to a stream source.")
    post = _post_scope(keys, calls.calls, select.window is not None)
    values = [(n, _compile_post(e, post, "SELECT")) for n, e in rewritten]
    having = _compile_post(having_expr, post, "HAVING") if having_expr is not None else None
    if having is not None and select.having is not None and having.type.base != "BOOLEAN":
        raise KsqlStatementError(f"Type error in HAVING expression: Should evaluate to boolean but is "
                                 f"{format_expression(select.having)} ({having.type.sql()}) instead.")
    where = _compile(select.where, scope, "WHERE") if select.where is not None else None
    check_unique([NamedExpr(n, exp.Null()) for n in key_names] + [NamedExpr(n, exp.Null()) for n, _ in values])
    window = select.window
    grace = window.grace_ms if window is not None and window.grace_ms is not None else DEFAULT_GRACE_MS
    return AggregatePlan(source, keys, calls.calls, values, having, where, window, grace,
                         select.emit == "FINAL", tuple(i.name for i in items))
