"""ksql expression tree -> DuckDB SQL text plus ksqlDB type.

The engine evaluates every compiled expression of an operator in one DuckDB query per batch
(``SELECT <e1> AS "c1", ... FROM batch WHERE <pred>``), so the SQL produced here must never
raise for a data-dependent reason: divisions guard zero, casts of text use TRY_CAST, integer
arithmetic wraps like Java instead of overflowing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from engine import types as T
from engine.expressions import casts, operators, structures
from engine.expressions.compiled import Compiled
from engine.expressions.errors import ExpressionError
from engine.expressions.formatter import format_expression
from engine.expressions.scope import Scope
from engine.expressions.typesys import NULL_TYPE, common_type, display, is_null
from parser.statements import SqlType

__all__ = ["Compiled", "Compiler", "compile_expression"]

_INT_MAX = 2**31 - 1
_BIGINT_MAX = 2**63 - 1


def compile_expression(expr: exp.Expression, scope: Scope, clause: str = "SELECT") -> Compiled:
    """Type-check ``expr`` against ``scope`` and translate it to DuckDB SQL.

    Args:
        expr: a ksql expression tree (see the AST contract in parser/).
        scope: the columns visible to the expression.
        clause: the clause the expression is in (SELECT, WHERE, ...), used in messages such as
            "WHERE column 'X' cannot be resolved.".

    Raises:
        ExpressionError: unknown column/function, or a ksqlDB type error.
    """
    return Compiler(scope, clause).compile(expr)


class Compiler:
    """Recursive translator; holds the scope and the lambda variables currently bound."""

    def __init__(self, scope: Scope, clause: str = "SELECT") -> None:
        self.scope = scope
        self.clause = clause
        self.lambda_vars: dict[str, Compiled] = {}
        self._lambda_counter = 0

    def compile(self, e: exp.Expression) -> Compiled:
        """Compile one node (recursively)."""
        handler = _DISPATCH.get(type(e))
        if handler is None:
            handler = _by_class_name(e)
        return handler(self, e)

    def fresh_lambda_var(self) -> str:
        """A DuckDB lambda parameter name that cannot clash with batch columns."""
        self._lambda_counter += 1
        return f"__ksql_l{self._lambda_counter}_"  # trailing _ keeps names prefix-free

    # -- leaves ---------------------------------------------------------------------------

    def column(self, e: exp.Expression) -> Compiled:
        """A column reference, or a lambda variable in a lambda body."""
        name, qualifier = e.name, (e.text("table") or None)
        if qualifier is None and name in self.lambda_vars:
            return self.lambda_vars[name]
        entry = self.scope.resolve(name, qualifier, self.clause)
        return Compiled(entry.ref, entry.type)

    def literal(self, e: exp.Expression) -> Compiled:
        """String and numeric literals, typed as ksqlDB types them."""
        text = str(e.this)
        if e.is_string:
            return Compiled("'" + text.replace("'", "''") + "'", T.STRING)
        return numeric_literal(text)

    def paren(self, e: exp.Expression) -> Compiled:
        """``(x)``."""
        inner = self.compile(e.this)
        return Compiled(f"({inner.sql})", inner.type)

    def function(self, e: exp.Expression) -> Compiled:
        """Any function call (``exp.Anonymous``)."""
        from engine.expressions.functions.registry import compile_call

        return compile_call(str(e.this).upper(), list(e.expressions), self, e)

    def case(self, e: exp.Expression) -> Compiled:
        """Searched (and simple) CASE; branch types unify like ksqlDB."""
        operand = self.compile(e.this) if e.this is not None else None
        conds: list[str] = []
        results: list[Compiled] = []
        for branch in e.args.get("ifs") or []:
            cond = self.compile(branch.this)
            if operand is not None:
                cond = operators.compare(exp.EQ, operand, cond, e)
            elif not is_null(cond.type) and cond.type.base != "BOOLEAN":
                raise ExpressionError(
                    f"WHEN operand type should be boolean. Type for '{format_expression(branch.this)}' "
                    f"is {display(cond.type)}"
                )
            conds.append(cond.sql)
            results.append(self.compile(branch.args["true"]))
        default = e.args.get("default")
        default_c = self.compile(default) if default is not None else None
        all_results = results + ([default_c] if default_c else [])
        rtype = common_type([r.type for r in all_results])
        if rtype is None:
            raise ExpressionError(
                "Invalid Case expression. Type for all 'THEN' clauses should be the same."
            )
        if is_null(rtype):
            raise ExpressionError("Invalid Case expression. All case branches have NULL type")
        parts = [f"WHEN {c} THEN {r.cast_to(rtype).sql}" for c, r in zip(conds, results, strict=True)]
        else_sql = f" ELSE {default_c.cast_to(rtype).sql}" if default_c else ""
        return Compiled(f"(CASE {' '.join(parts)}{else_sql} END)", rtype)


def numeric_literal(text: str) -> Compiled:
    """ksqlDB literal typing: INTEGER, BIGINT, DECIMAL for ``1.5``, DOUBLE for ``1e3``."""
    lowered = text.lower()
    if "e" in lowered:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            raise ExpressionError(f"Number overflows DOUBLE: {text}")
        return Compiled(f"CAST({text} AS DOUBLE)", T.DOUBLE)
    if "." in text:
        whole, _, frac = text.lstrip("-").partition(".")
        digits = (whole.lstrip("0") or "") + frac
        precision = max(len(digits), len(frac), 1)
        return Compiled(f"CAST({text} AS DECIMAL({precision}, {len(frac)}))", T.decimal(precision, len(frac)))
    value = int(text)
    if -_INT_MAX - 1 <= value <= _INT_MAX:
        return Compiled(f"CAST({text} AS INTEGER)", T.INTEGER)
    if -_BIGINT_MAX - 1 <= value <= _BIGINT_MAX:
        return Compiled(f"CAST({text} AS BIGINT)", T.BIGINT)
    raise ExpressionError(f"Invalid numeric literal: {text}")


def _by_class_name(e: exp.Expression) -> Callable[[Compiler, exp.Expression], Compiled]:
    if type(e).__name__ == "Dereference":
        return structures.dereference
    raise ExpressionError(f"Unsupported expression: {format_expression(e)}")


_DISPATCH: dict[type[exp.Expression], Callable[[Compiler, exp.Expression], Compiled]] = {
    exp.Column: Compiler.column,
    exp.Literal: Compiler.literal,
    exp.Boolean: lambda c, e: Compiled("true" if e.this else "false", T.BOOLEAN),
    exp.Null: lambda c, e: Compiled("NULL", NULL_TYPE),
    exp.Paren: Compiler.paren,
    exp.Anonymous: Compiler.function,
    exp.Case: Compiler.case,
    exp.Cast: casts.compile_cast,
    exp.Bracket: structures.subscript,
    exp.Array: structures.array_constructor,
    exp.Neg: operators.negate,
    exp.Add: operators.arithmetic,
    exp.Sub: operators.arithmetic,
    exp.Mul: operators.arithmetic,
    exp.Div: operators.arithmetic,
    exp.Mod: operators.arithmetic,
    exp.DPipe: operators.concat_pipe,
    exp.EQ: operators.comparison,
    exp.NEQ: operators.comparison,
    exp.GT: operators.comparison,
    exp.GTE: operators.comparison,
    exp.LT: operators.comparison,
    exp.LTE: operators.comparison,
    exp.NullSafeEQ: operators.comparison,
    exp.NullSafeNEQ: operators.comparison,
    exp.And: operators.logical,
    exp.Or: operators.logical,
    exp.Not: operators.logical_not,
    exp.Is: operators.is_null_predicate,
    exp.Between: operators.between,
    exp.In: operators.in_list,
    exp.Like: operators.like,
    exp.Escape: operators.like,
}


def ensure_type(c: Compiled, expected: SqlType, what: str) -> None:
    """Raise unless ``c`` has type ``expected`` (or is NULL)."""
    if not is_null(c.type) and c.type != expected:
        raise ExpressionError(f"{what} must be {display(expected)} but was {display(c.type)}")
