"""Arithmetic, comparison, logical and predicate operators with ksqlDB's typing."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from sqlglot import exp

from engine import types as T
from engine.expressions.compiled import Compiled
from engine.expressions.errors import ExpressionError
from engine.expressions.formatter import format_expression
from engine.expressions.typesys import (
    common_type,
    comparable,
    decimal_arithmetic,
    display,
    duck,
    is_null,
    is_numeric,
    is_temporal,
    wider_numeric,
)

if TYPE_CHECKING:
    from engine.expressions.compiler import Compiler

_ARITH_OPS: dict[type[exp.Expression], str] = {
    exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%",
}
_CMP_OPS: dict[type[exp.Expression], tuple[str, str]] = {
    exp.EQ: ("=", "EQUAL"),
    exp.NEQ: ("<>", "NOT_EQUAL"),
    exp.GT: (">", "GREATER_THAN"),
    exp.GTE: (">=", "GREATER_THAN_OR_EQUAL"),
    exp.LT: ("<", "LESS_THAN"),
    exp.LTE: ("<=", "LESS_THAN_OR_EQUAL"),
    exp.NullSafeEQ: ("IS NOT DISTINCT FROM", "IS_NOT_DISTINCT_FROM"),
    exp.NullSafeNEQ: ("IS DISTINCT FROM", "IS_DISTINCT_FROM"),
}


def arithmetic(c: Compiler, e: exp.Expression) -> Compiled:
    """``+ - * / %`` with ksqlDB result types; never raises at run time."""
    left, right = c.compile(e.this), c.compile(e.expression)
    op = _ARITH_OPS[type(e)]
    if is_null(left.type) or is_null(right.type):
        raise ExpressionError(
            f"Error processing expression: {format_expression(e)}. Arithmetic on types "
            f"{display(left.type)} and {display(right.type)} are not supported."
        )
    if op == "+" and left.type.base == right.type.base == "STRING":
        return Compiled(f"({left.sql} || {right.sql})", T.STRING)
    if not (is_numeric(left.type) and is_numeric(right.type)):
        raise ExpressionError(
            f"Error processing expression: {format_expression(e)}. Unsupported arithmetic types. "
            f"{display(left.type)} {display(right.type)}"
        )
    return numeric_op(op, left, right)


def numeric_op(op: str, left: Compiled, right: Compiled) -> Compiled:
    """``left op right`` for numeric operands."""
    if "DOUBLE" in (left.type.base, right.type.base):
        return _double_op(op, left.cast_to(T.DOUBLE), right.cast_to(T.DOUBLE))
    if "DECIMAL" in (left.type.base, right.type.base):
        return _decimal_op(op, left, right)
    rtype = wider_numeric(left.type, right.type)
    return _integer_op(op, left.cast_to(rtype), right.cast_to(rtype), rtype)


def _double_op(op: str, left: Compiled, right: Compiled) -> Compiled:
    # Java doubles: x/0 is +-Infinity or NaN, which DuckDB's float division also yields.
    if op == "%":
        return Compiled(f"ksql_fmod({left.sql}, {right.sql})", T.DOUBLE)
    return Compiled(f"({left.sql} {op} {right.sql})", T.DOUBLE)


def _integer_op(op: str, left: Compiled, right: Compiled, rtype: T.SqlType) -> Compiled:
    # Java int/long arithmetic wraps on overflow; compute wider then wrap (ksql_wrap_* macros).
    wide, wrap = ("BIGINT", "ksql_wrap_int") if rtype.base == "INTEGER" else ("HUGEINT", "ksql_wrap_bigint")
    lhs, rhs = f"CAST({left.sql} AS {wide})", f"CAST({right.sql} AS {wide})"
    if op == "/":
        body = f"{lhs} // NULLIF({rhs}, 0)"  # DuckDB's // truncates toward zero, like Java
    elif op == "%":
        body = f"{lhs} % NULLIF({rhs}, 0)"
    else:
        body = f"{lhs} {op} {rhs}"
    return Compiled(f"{wrap}({body})", rtype)


def _decimal_op(op: str, left: Compiled, right: Compiled) -> Compiled:
    rtype = decimal_arithmetic(op, left.type, right.type)
    target = duck(rtype)
    if op == "/":
        # DuckDB divides decimals in DOUBLE; round to the ksqlDB scale (HALF_UP like BigDecimal).
        body = f"CAST({left.sql} AS DOUBLE) / NULLIF(CAST({right.sql} AS DOUBLE), 0)"
    elif op == "%":
        body = f"{left.sql} % NULLIF({right.sql}, 0)"
    else:
        body = f"{left.sql} {op} {right.sql}"
    return Compiled(f"TRY_CAST({body} AS {target})", rtype)


def negate(c: Compiler, e: exp.Expression) -> Compiled:
    """Unary minus."""
    inner = e.this
    if isinstance(inner, exp.Literal) and not inner.is_string:
        from engine.expressions.compiler import numeric_literal

        return numeric_literal(f"-{inner.this}")
    value = c.compile(inner)
    if not is_numeric(value.type):
        raise ExpressionError(f"Unsupported arithmetic type for negation: {display(value.type)}")
    if value.type.base == "INTEGER":
        return Compiled(f"ksql_wrap_int(-CAST({value.sql} AS BIGINT))", value.type)
    if value.type.base == "BIGINT":
        return Compiled(f"ksql_wrap_bigint(-CAST({value.sql} AS HUGEINT))", value.type)
    return Compiled(f"(-{value.sql})", value.type)


def concat_pipe(c: Compiler, e: exp.Expression) -> Compiled:
    """``a || b`` string concatenation."""
    left, right = c.compile(e.this), c.compile(e.expression)
    return Compiled(f"({left.sql} || {right.sql})", T.STRING)


def comparison(c: Compiler, e: exp.Expression) -> Compiled:
    """``= <> < <= > >=`` and IS [NOT] DISTINCT FROM."""
    return compare(type(e), c.compile(e.this), c.compile(e.expression), e)


def compare(kind: type[exp.Expression], left: Compiled, right: Compiled, e: exp.Expression) -> Compiled:
    """Type-check and render one comparison (also used by simple CASE and IN)."""
    op, name = _CMP_OPS[kind]
    left, right = _magic_timestamps(e.this, left, e.expression, right)
    if not comparable(left.type, right.type, op):
        raise ExpressionError(
            f"Cannot compare {format_expression(e.this)} ({display(left.type)}) to "
            f"{format_expression(e.expression)} ({display(right.type)}) with {name}."
        )
    left, right = _align_for_compare(left, right)
    if "DISTINCT" in op:
        return Compiled(f"({left.sql} {op} {right.sql})", T.BOOLEAN)
    # ksqlDB comparisons with a NULL operand are false, not NULL.
    return Compiled(f"coalesce({left.sql} {op} {right.sql}, false)", T.BOOLEAN)


_SYSTEM_TIME_COLUMNS = ("ROWTIME", "WINDOWSTART", "WINDOWEND")


def _magic_timestamps(
    lnode: exp.Expression, left: Compiled, rnode: exp.Expression, right: Compiled
) -> tuple[Compiled, Compiled]:
    """ksqlDB compares ROWTIME/WINDOWSTART/WINDOWEND with timestamp text as epoch millis."""
    def convert(node: exp.Expression, value: Compiled, other: exp.Expression) -> Compiled:
        if (isinstance(node, exp.Literal) and node.is_string and isinstance(other, exp.Column)
                and other.name in _SYSTEM_TIME_COLUMNS):
            millis = partial_timestamp_ms(node.this)
            if millis is not None:
                return Compiled(f"CAST({millis} AS BIGINT)", T.BIGINT)
        return value

    return convert(lnode, left, rnode), convert(rnode, right, lnode)


_PARTIAL_TS = re.compile(
    r"^(\d{4})(?:-(\d\d)(?:-(\d\d)(?:T(\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?)?)?)?)?"
    r"(Z|[+-]\d\d:?\d\d)?$"
)


def partial_timestamp_ms(text: str) -> int | None:
    """Epoch millis of ksqlDB's partial ISO timestamp text (``2018``, ``2019-01-01T00:00:00+0445``)."""
    m = _PARTIAL_TS.match(text.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, frac, zone = m.groups()
    stamp = dt.datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                        int(second or 0), int((frac or "0").ljust(3, "0")) * 1000)
    offset = 0
    if zone and zone != "Z":
        digits = zone.replace(":", "")
        offset = (1 if digits[0] == "+" else -1) * (int(digits[1:3]) * 60 + int(digits[3:5]))
    delta = stamp - dt.datetime(1970, 1, 1) - dt.timedelta(minutes=offset)
    return int(delta.total_seconds() * 1000)


def _align_for_compare(left: Compiled, right: Compiled) -> tuple[Compiled, Compiled]:
    """Convert a STRING side to the temporal type of the other, as ksqlDB does."""
    if left.type.base == "STRING" and is_temporal(right.type):
        return Compiled(f"TRY_CAST({left.sql} AS {duck(right.type)})", right.type), right
    if right.type.base == "STRING" and is_temporal(left.type):
        return left, Compiled(f"TRY_CAST({right.sql} AS {duck(left.type)})", left.type)
    if left.type.base == "TIMESTAMP" and right.type.base == "DATE":
        return left, right.cast_to(T.TIMESTAMP)
    if left.type.base == "DATE" and right.type.base == "TIMESTAMP":
        return left.cast_to(T.TIMESTAMP), right
    return left, right


def _require_boolean(value: Compiled, e: exp.Expression) -> None:
    if not is_null(value.type) and value.type.base != "BOOLEAN":
        raise ExpressionError(
            f"Logical operator requires boolean operands, but {format_expression(e)} is "
            f"{display(value.type)}"
        )


def logical(c: Compiler, e: exp.Expression) -> Compiled:
    """AND / OR with SQL three-valued logic."""
    left, right = c.compile(e.this), c.compile(e.expression)
    _require_boolean(left, e.this)
    _require_boolean(right, e.expression)
    op = "AND" if isinstance(e, exp.And) else "OR"
    return Compiled(f"({left.sql} {op} {right.sql})", T.BOOLEAN)


def logical_not(c: Compiler, e: exp.Expression) -> Compiled:
    """NOT x (also IS NOT NULL, NOT BETWEEN, NOT IN, NOT LIKE through the inner node)."""
    inner = c.compile(e.this)
    _require_boolean(inner, e.this)
    return Compiled(f"(NOT {inner.sql})", T.BOOLEAN)


def is_null_predicate(c: Compiler, e: exp.Expression) -> Compiled:
    """``x IS NULL`` (``IS NOT NULL`` arrives as Not(Is))."""
    value = c.compile(e.this)
    if not isinstance(e.expression, exp.Null):
        target = c.compile(e.expression)
        return Compiled(f"({value.sql} IS NOT DISTINCT FROM {target.sql})", T.BOOLEAN)
    return Compiled(f"({value.sql} IS NULL)", T.BOOLEAN)


def between(c: Compiler, e: exp.Expression) -> Compiled:
    """``x BETWEEN low AND high`` (inclusive)."""
    value, low, high = c.compile(e.this), c.compile(e.args["low"]), c.compile(e.args["high"])
    _, low = _magic_timestamps(e.this, value, e.args["low"], low)
    _, high = _magic_timestamps(e.this, value, e.args["high"], high)
    for bound, node in ((low, e.args["low"]), (high, e.args["high"])):
        if not comparable(value.type, bound.type, ">="):
            raise ExpressionError(
                f"Cannot compare {format_expression(e.this)} ({display(value.type)}) to "
                f"{format_expression(node)} ({display(bound.type)}) with BETWEEN."
            )
    value_l, low = _align_for_compare(value, low)
    value_h, high = _align_for_compare(value, high)
    return Compiled(f"coalesce({value_l.sql} >= {low.sql} AND {value_h.sql} <= {high.sql}, false)", T.BOOLEAN)


def in_list(c: Compiler, e: exp.Expression) -> Compiled:
    """``x IN (a, b, ...)``; items must be comparable to x."""
    value = c.compile(e.this)
    items = [c.compile(i) for i in e.expressions]
    rendered: list[str] = []
    for item, node in zip(items, e.expressions, strict=True):
        if not comparable(value.type, item.type, "="):
            raise ExpressionError(
                f"Invalid Predicate: operator IN requires that {format_expression(node)} "
                f"({display(item.type)}) be comparable to {format_expression(e.this)} "
                f"({display(value.type)})"
            )
        _, aligned = _align_for_compare(value, item)
        rendered.append(aligned.sql)
    target = common_type([value.type] + [i.type for i in items])
    value_sql = value.cast_to(target).sql if target is not None and not is_null(target) else value.sql
    return Compiled(f"({value_sql} IN ({', '.join(rendered)}))", T.BOOLEAN)


def like(c: Compiler, e: exp.Expression) -> Compiled:
    """``x LIKE pattern [ESCAPE 'c']``: ksqlDB's ``%`` / ``_`` wildcards, case-sensitive."""
    escape_node = e.expression if isinstance(e, exp.Escape) else None
    like_node = e.this if isinstance(e, exp.Escape) else e
    value, pattern = c.compile(like_node.this), c.compile(like_node.expression)
    if value.type.base != "STRING" and not is_null(value.type):
        raise ExpressionError(
            f"The column type for Like condition must be VARCHAR. The column type is {display(value.type)}"
        )
    if pattern.type.base != "STRING" and not is_null(pattern.type):
        raise ExpressionError("Like condition must be between strings")
    escape = f" ESCAPE {c.compile(escape_node).sql}" if escape_node is not None else " ESCAPE ''"
    return Compiled(f"({value.sql} LIKE {pattern.sql}{escape})", T.BOOLEAN)
