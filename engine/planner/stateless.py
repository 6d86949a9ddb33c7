"""Plans for stateless stream queries: WHERE, projection, table functions, PARTITION BY.

The whole per-batch work of such a query is one DuckDB SQL statement over the decoded input
batch (registered as ``batch``): table functions (EXPLODE ...) unnest in an inner select after
the WHERE, the outer select computes key columns, value columns and the output timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from engine.catalog import Column, Source
from engine.errors import KsqlStatementError
from engine.expressions import (
    Compiled,
    ExpressionError,
    UnknownColumnError,
    compile_expression,
    format_expression,
)
from engine.operators.codec import NULL_VALUE
from engine.planner.projection import (
    NamedExpr,
    NameGenerator,
    check_unique,
    column_name,
    derived_name,
    expand_select,
    expand_struct_stars,
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
    partitioned: bool = False  # PARTITION BY computes the key


def _compile(expr: exp.Expression, scope: object, clause: str | None = None) -> Compiled:
    try:
        return compile_expression(expr, scope, clause or "SELECT")  # type: ignore[arg-type]
    except UnknownColumnError as err:
        if clause == "PARTITION BY":
            raise KsqlStatementError(f"{err} '{err.name}' must be a column in the source schema since "
                                     f"PARTITION BY is applied on the input.") from err
        raise KsqlStatementError(str(err)) from err
    except ExpressionError as err:
        message = f"Error in {clause} expression: {err}" if clause in ("WHERE", "HAVING") else str(err)
        raise KsqlStatementError(message) from err


def _duplicate_key(key: str, first: str, second: str) -> KsqlStatementError:
    return KsqlStatementError(
        f"The projection contains a key column (`{key}`) more than once, aliased as: {first} and {second}.")


def _key_columns_without_partition(items: list[NamedExpr], source: Source) -> list[int]:
    """Indexes of select items that carry the source key through (plain key column refs)."""
    key_names = {c.name for c in source.key_columns}
    picked: list[int] = []
    seen: dict[str, str] = {}
    for idx, item in enumerate(items):
        name = column_name(item.expr)
        if name in key_names:
            if name in seen:
                raise _duplicate_key(name, seen[name], item.name)
            seen[name] = item.name
            picked.append(idx)
    return picked


def _qualified_text(expr: exp.Expression, qualifier: str) -> str:
    """ksqlDB's rendering of an input expression in messages: columns qualified by the source."""
    copy = expr.copy()
    for col in copy.find_all(exp.Column):
        if col.args.get("table") is None:
            col.set("table", exp.Identifier(this=qualifier))
    return format_expression(copy)


def _missing_partition_keys(missing: list[exp.Expression], qualifier: str, sink: str | None) -> KsqlStatementError:
    texts = [_qualified_text(e, qualifier) for e in missing]
    plural = "s" if len(texts) > 1 else ""
    listed = " and ".join(texts) if len(texts) <= 2 else ", ".join(texts[:-1]) + " and " + texts[-1]
    return KsqlStatementError(
        f"The query used to build `{sink or 'OUTPUT'}` must include the partitioning expression{plural} "
        f"{listed} in its projection (eg, SELECT {', '.join(texts)}...).")


def _partition_keys(items: list[NamedExpr], partition_by: tuple[exp.Expression, ...], star: bool,
                    taken: set[str]) -> tuple[list[int], list[NamedExpr], list[exp.Expression]]:
    """(select items that are partition keys, extra key items for SELECT *, missing expressions)."""
    picked: list[int] = []
    extra: list[NamedExpr] = []
    missing: list[exp.Expression] = []
    stripped = [strip_qualifiers(i.expr) for i in items]
    names = NameGenerator(taken)
    for expr in partition_by:
        target = strip_qualifiers(expr)
        matches = [i for i, s in enumerate(stripped) if s == target]
        if len(matches) > 1:
            raise _duplicate_key(derived_name(expr) or format_expression(expr),
                                 items[matches[0]].name, items[matches[1]].name)
        if matches:
            picked.append(matches[0])
        elif star:
            extra.append(NamedExpr(derived_name(expr) or names.next(), expr))
        else:
            missing.append(expr)
    return picked, extra, missing


def _check_partition_by(partition_by: tuple[exp.Expression, ...]) -> bool:
    """Validate PARTITION BY's shape; True when it is PARTITION BY NULL (no key)."""
    if len(partition_by) == 1 and isinstance(partition_by[0], exp.Tuple) and not partition_by[0].expressions:
        raise KsqlStatementError("PARTITION BY requires at least one expression")
    nulls = [e for e in partition_by if isinstance(e, exp.Null)]
    if nulls and len(partition_by) > 1:
        raise KsqlStatementError("Cannot PARTITION BY multiple columns including NULL")
    return bool(nulls)


def plan_stateless(select: Select, source: Source, persistent: bool, sink_name: str | None = None) -> StatelessPlan:
    """Plan a single-source stream query with no aggregation."""
    star = any(isinstance(i.expr, exp.Star) for i in select.items)
    alias = select.from_.alias
    select_items = expand_struct_stars(select.items, source_scope(source, alias))
    items = expand_select(select_items, {alias or source.name: source}, persistent)
    if select.partition_by and star:
        # ksqlDB moves the old key columns after the value columns when re-keying a SELECT *.
        key_names = {c.name for c in source.key_columns}
        items = [i for i in items if column_name(i.expr) not in key_names] + \
                [i for i in items if column_name(i.expr) in key_names]
    scope = source_scope(source, alias)
    rewrite = rewrite_table_functions(items, scope)
    items = rewrite.items
    scope = rewrite.scope
    qualifier = alias or source.name
    if select.partition_by and not _check_partition_by(select.partition_by):
        for expr in select.partition_by:
            _compile(expr, source_scope(source, alias), "PARTITION BY")
        picked, extra, missing = _partition_keys(items, select.partition_by, star, {i.name for i in items})
        if missing and persistent:
            raise _missing_partition_keys(missing, qualifier, sink_name)
    elif select.partition_by:
        picked, extra = [], []
    else:
        picked, extra = _key_columns_without_partition(items, source), []
    keys = extra + [items[i] for i in picked]
    values = [item for i, item in enumerate(items) if i not in picked]
    check_unique(keys + values)
    compiled_keys = [(k.name, _compile(k.expr, scope)) for k in keys]
    compiled_values = [(v.name, _compile(v.expr, scope)) for v in values]
    for _, c in compiled_keys + compiled_values:
        if c.type.base == "NULL":
            raise KsqlStatementError("Can't infer a type of null. Please explicitly cast it to a required type, "
                                     "e.g. CAST(null AS VARCHAR).")
    if select.partition_by:
        # A tombstone has no value columns: a new key computed from them becomes null, while one
        # computed from key columns only is still known.
        key_only = {c.name for c in source.key_columns}
        keyed = {k.name: k.expr for k in keys}
        compiled_keys = [(n, c if {col.name for col in keyed[n].find_all(exp.Column)} <= key_only
                          else Compiled(f'CASE WHEN "{NULL_VALUE}" THEN NULL ELSE {c.sql} END', c.type))
                         for n, c in compiled_keys]
    where = _compile(select.where, source_scope(source, alias), "WHERE") if select.where is not None else None
    if where is not None and select.where is not None and where.type.base != "BOOLEAN":
        raise KsqlStatementError(f"Type error in WHERE expression: Should evaluate to boolean but is "
                                 f"{select.where.sql()} ({where.type.sql()}) instead.")
    sql = _build_sql(compiled_keys + compiled_values, where, rewrite, source.kind == "TABLE")
    return StatelessPlan(
        source=source,
        key_columns=[Column(n, c.type, "KEY") for n, c in compiled_keys],
        value_columns=[Column(n, c.type, "VALUE") for n, c in compiled_values],
        sql=sql,
        has_table_functions=bool(rewrite.unnests),
        select_order=tuple(k.name for k in extra) + tuple(i.name for i in items),
        partitioned=bool(select.partition_by),
    )


def _build_sql(outputs: list[tuple[str, Compiled]], where: Compiled | None,
               rewrite: TableFunctionRewrite, table: bool) -> str:
    cols = [f'{c.sql} AS "{name}"' for name, c in outputs]
    cols.append(f'"ROWTIME" AS "{TS_COLUMN}"')
    if table and where is not None:
        # A table row that stops matching WHERE is deleted downstream: it becomes a tombstone.
        cols.append(f'("{NULL_VALUE}" OR ({where.sql}) IS NOT TRUE) AS "{NULL_VALUE}"')
        where = None
    else:
        cols.append(f'"{NULL_VALUE}"')
    # A null value (tombstone) passes through a stream query as a null value, unless filtered.
    where_sql = f' WHERE NOT "{NULL_VALUE}" AND ({where.sql}) IS TRUE' if where is not None else ""
    if not rewrite.unnests:
        return f"SELECT {', '.join(cols)} FROM batch{where_sql}"
    inner = ", ".join(["*"] + [f'UNNEST({sql}) AS "{name}"' for name, sql in rewrite.unnests])
    return f"SELECT {', '.join(cols)} FROM (SELECT {inner} FROM batch{where_sql}) AS tf"
