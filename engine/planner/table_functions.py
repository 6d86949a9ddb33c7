"""Table functions (EXPLODE, CUBE_EXPLODE): rewritten into DuckDB UNNEST columns.

Each table-function call in the select list becomes a column ``__TF<n>`` of an inner select
that unnests its argument after WHERE; the outer select then reads ``__TF<n>`` like any column.
Several table functions in one select unnest side by side, padded with NULLs to the longest,
which is ksqlDB's behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from engine import types as t
from engine.errors import KsqlStatementError
from engine.expressions import compile_expression
from engine.expressions.scope import Scope, ScopeEntry, quote_ident
from engine.planner.projection import NamedExpr

TABLE_FUNCTIONS = frozenset({"EXPLODE", "CUBE_EXPLODE"})


@dataclass(slots=True)
class TableFunctionRewrite:
    """Select items with table functions replaced, the scope that sees their outputs, the unnests."""

    items: list[NamedExpr]
    scope: Scope
    unnests: list[tuple[str, str]] = field(default_factory=list)  # (column name, list SQL)


def _cube_sql(arg_sql: str) -> str:
    # Every combination of the array's elements with NULLs, in ksqlDB's order: the mask counts
    # down so the full array comes first and the all-NULL row last.
    a = f"({arg_sql})"
    return (f"list_transform(range((1 << len({a})) - 1, -1, -1), "
            f"lambda m: list_transform(range(len({a})), lambda i: CASE WHEN (m >> (len({a}) - 1 - i)) & 1 = 1 "
            f"THEN {a}[i + 1] ELSE NULL END))")


def _rewrite_call(node: exp.Anonymous, scope: Scope, rewrite: TableFunctionRewrite) -> exp.Expression:
    name = str(node.this).upper()
    args = node.expressions
    if len(args) != 1:
        raise KsqlStatementError(f"Function '{name}' does not accept parameters "
                                 f"({', '.join(a.sql() for a in args)}).")
    compiled = compile_expression(args[0], scope)
    if compiled.type.base != "ARRAY":
        raise KsqlStatementError(f"Function '{name.lower()}' does not accept parameters "
                                 f"({compiled.type.sql()}).")
    column = f"__TF{len(rewrite.unnests)}"
    item_type = compiled.type.items[0]
    if name == "CUBE_EXPLODE":
        rewrite.unnests.append((column, _cube_sql(compiled.sql)))
        item_type = t.array(item_type)
    else:
        rewrite.unnests.append((column, compiled.sql))
    rewrite.scope = rewrite.scope.extend([ScopeEntry(None, column, quote_ident(column), item_type)])
    return exp.Column(this=exp.Identifier(this=column, quoted=True))


def rewrite_table_functions(items: list[NamedExpr], scope: Scope) -> TableFunctionRewrite:
    """Replace table-function calls in ``items`` by references to unnested columns."""
    rewrite = TableFunctionRewrite(items=[], scope=scope)
    for item in items:
        calls = [n for n in item.expr.find_all(exp.Anonymous) if str(n.this).upper() in TABLE_FUNCTIONS]
        if not calls:
            rewrite.items.append(item)
            continue
        expr = item.expr.copy()
        expr = expr.transform(
            lambda n: _rewrite_call(n, scope, rewrite)
            if isinstance(n, exp.Anonymous) and str(n.this).upper() in TABLE_FUNCTIONS else n)
        rewrite.items.append(NamedExpr(item.name, expr, item.aliased))
    return rewrite
