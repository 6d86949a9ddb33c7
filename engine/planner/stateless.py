"""Plans for stateless stream queries: WHERE, projection, table functions, PARTITION BY.

The whole per-batch work of such a query is one DuckDB SQL statement over the decoded input
batch (registered as ``batch``): table functions (EXPLODE ...) unnest in an inner select after
the WHERE, the outer select computes key columns, value columns and the output timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from engine.catalog import Column, Source
from engine.operators.codec import NULL_VALUE
from engine.errors import KsqlStatementError
from engine.expressions import Compiled, ExpressionError, compile_expression
from engine.planner.projection import (
    NamedExpr,
    check_unique,
    column_name,
    derived_name,
    expand_select,
    strip_qualifiers,
)
from engine.planner.scope import source_scope
from engine.planner.table_functions import TableFunctionRewrite, rewrite_table_functions
from parser.statements import Select

TS_COLUMN = "__ROWTIME"


@dataclass(frozen=True, slots=True)
class StatelessPlan:
    """Output schema plus the DuckDB SQL that turns an input batch into output rows."""

    source: Source
    key_columns: list[Column]
    value_columns: list[Column]
    sql: str
    has_table_functions: bool = False
    select_order: tuple[str, ...] = ()  # output names in SELECT order (transient query columns)


def _compile(expr: exp.Expression, scope: object, clause: str | None = None) -> Compiled:
    try:
        return compile_expression(expr, scope)  # type: ignore[arg-type]
    except ExpressionError as err:
        message = f"Error in {clause} expression: {err}" if clause else str(err)
        raise KsqlStatementError(message) from err


def _key_columns_without_partition(items: list[NamedExpr], source: Source) -> list[int]:
    """Indexes of select items that carry the source key through (plain key column refs)."""
    key_names = {c.name for c in source.key_columns}
    picked: list[int] = []
    seen: dict[str, str] = {}
    for idx, item in enumerate(items):
        name = column_name(item.expr)
        if name in key_names:
            if name in seen:
                raise KsqlStatementError(
                    f"The projection contains a key column more than once: `{seen[name]}` and `{item.name}`.")
            seen[name] = item.name
            picked.append(idx)
    return picked


def _partition_keys(items: list[NamedExpr], partition_by: tuple[exp.Expression, ...],
                    source: Source, star: bool, taken: set[str]) -> tuple[list[int], list[NamedExpr]]:
    """(indexes of select items that are partition keys, extra key items not in the select)."""
    if len(partition_by) == 1 and isinstance(partition_by[0], exp.Null):
        return [], []
    picked: list[int] = []
    extra: list[NamedExpr] = []
    stripped = [strip_qualifiers(i.expr) for i in items]
    counter = 0
    for expr in partition_by:
        target = strip_qualifiers(expr)
        match = next((i for i, s in enumerate(stripped) if s == target and i not in picked), None)
        if match is not None:
            picked.append(match)
            continue
        name = derived_name(expr)
        if name is None:
            while f"KSQL_COL_{counter}" in taken:
                counter += 1
            name = f"KSQL_COL_{counter}"
            taken.add(name)
        extra.append(NamedExpr(name, expr))
    return picked, extra


def plan_stateless(select: Select, source: Source, persistent: bool) -> StatelessPlan:
    """Plan a single-source stream query with no aggregation."""
    star = any(isinstance(i.expr, exp.Star) for i in select.items)
    items = expand_select(select.items, {source.name: source}, persistent)
    if select.partition_by and star:
        # ksqlDB moves the old key columns after the value columns when re-keying a SELECT *.
        key_names = {c.name for c in source.key_columns}
        items = [i for i in items if column_name(i.expr) not in key_names] + \
                [i for i in items if column_name(i.expr) in key_names]
    scope = source_scope(source, alias=None)
    rewrite = rewrite_table_functions(items, scope)
    items = rewrite.items
    scope = rewrite.scope
    if select.partition_by:
        picked, extra = _partition_keys(items, select.partition_by, source, star, {i.name for i in items})
    else:
        picked, extra = _key_columns_without_partition(items, source), []
    keys = extra + [items[i] for i in picked]
    values = [item for i, item in enumerate(items) if i not in picked]
    check_unique(keys + values)
    compiled_keys = [(k.name, _compile(k.expr, scope)) for k in keys]
    compiled_values = [(v.name, _compile(v.expr, scope)) for v in values]
    where = _compile(select.where, source_scope(source, None), "WHERE") if select.where is not None else None
    if where is not None and where.type.base != "BOOLEAN":
        raise KsqlStatementError(f"Type error in WHERE expression: Should evaluate to boolean but is "
                                 f"{select.where.sql()} ({where.type.sql()}) instead.")
    sql = _build_sql(compiled_keys + compiled_values, where, rewrite)
    return StatelessPlan(
        source=source,
        key_columns=[Column(n, c.type, "KEY") for n, c in compiled_keys],
        value_columns=[Column(n, c.type, "VALUE") for n, c in compiled_values],
        sql=sql,
        has_table_functions=bool(rewrite.unnests),
        select_order=tuple(k.name for k in extra) + tuple(i.name for i in items),
    )


def _build_sql(outputs: list[tuple[str, Compiled]], where: Compiled | None,
               rewrite: TableFunctionRewrite) -> str:
    cols = [f'{c.sql} AS "{name}"' for name, c in outputs]
    cols.append(f'"ROWTIME" AS "{TS_COLUMN}"')
    cols.append(f'"{NULL_VALUE}"')
    # A null value (tombstone) passes through a stream query as a null value, unless filtered.
    where_sql = f' WHERE NOT "{NULL_VALUE}" AND ({where.sql}) IS TRUE' if where is not None else ""
    if not rewrite.unnests:
        return f"SELECT {', '.join(cols)} FROM batch{where_sql}"
    inner = ", ".join(["*"] + [f'UNNEST({sql}) AS "{name}"' for name, sql in rewrite.unnests])
    return f"SELECT {', '.join(cols)} FROM (SELECT {inner} FROM batch{where_sql}) AS tf"
