"""Render expressions the way ksqlDB's ExpressionFormatter does.

Used in error messages ("Cannot compare ID (INTEGER) to 'x' (STRING) ...") and by the engine
for messages that quote expressions ("Non-aggregate SELECT expression(s) ...").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

_PLAIN_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")

_BINARY: dict[type[exp.Expression], str] = {
    exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%",
    exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=",
    exp.And: "AND", exp.Or: "OR", exp.DPipe: "||",
    exp.NullSafeEQ: "IS NOT DISTINCT FROM", exp.NullSafeNEQ: "IS DISTINCT FROM",
}


def format_name(name: str) -> str:
    """An identifier, back-quoted when ksqlDB would need quotes to read it back."""
    return name if _PLAIN_NAME.match(name) else f"`{name}`"


def format_expression(e: exp.Expression) -> str:
    """ksqlDB's text for an expression tree, e.g. ``(ID = 11)``, ``MAP(1:='cat')``."""
    handler = _HANDLERS.get(type(e))
    if handler is not None:
        return handler(e)
    if type(e).__name__ == "Dereference":
        return f"{format_expression(e.this)}->{format_name(e.expression.name)}"
    op = _BINARY.get(type(e))
    if op is not None:
        return f"({format_expression(e.this)} {op} {format_expression(e.expression)})"
    return e.sql()


def _column(e: exp.Expression) -> str:
    table = e.text("table")
    if isinstance(e.this, exp.Star):
        return f"{table}.*" if table else "*"
    name = format_name(e.name)
    return f"{format_name(table)}.{name}" if table else name


def _literal(e: exp.Expression) -> str:
    if e.is_string:
        return "'" + e.this.replace("'", "''") + "'"
    return str(e.this)


def _args(items: list[exp.Expression]) -> str:
    return ", ".join(format_expression(a) for a in items)


def _anonymous(e: exp.Expression) -> str:
    return f"{str(e.this).upper()}({_args(e.expressions)})"


def _cast(e: exp.Expression) -> str:
    return f"CAST({format_expression(e.this)} AS {_type_text(e.args['to'])})"


def _type_text(dt: exp.Expression) -> str:
    try:
        from engine.expressions.casts import datatype_to_sqltype

        return datatype_to_sqltype(dt).sql()  # type: ignore[arg-type]
    except Exception:  # a type we cannot map: fall back to sqlglot's text
        return dt.sql().upper()


def _property_eq(e: exp.Expression) -> str:
    key = e.this
    left = format_name(key.name) if isinstance(key, exp.Identifier) else format_expression(key)
    return f"{left}:={format_expression(e.expression)}"


def _constructor(e: exp.Expression) -> str:
    name = str(e.this).upper()
    if name in ("STRUCT", "MAP"):
        return f"{name}({', '.join(_property_eq(a) for a in e.expressions)})"
    return _anonymous(e)


def _case(e: exp.Expression) -> str:
    parts = ["(CASE"]
    if e.this is not None:
        parts.append(format_expression(e.this))
    for branch in e.args.get("ifs") or []:
        parts.append(f"WHEN {format_expression(branch.this)} THEN {format_expression(branch.args['true'])}")
    default = e.args.get("default")
    if default is not None:
        parts.append(f"ELSE {format_expression(default)}")
    return " ".join(parts) + " END)"


def _lambda(e: exp.Expression) -> str:
    params = ", ".join(format_name(p.name) for p in e.expressions)
    return f"({params}) => {format_expression(e.this)}"


def _is(e: exp.Expression) -> str:
    return f"({format_expression(e.this)} IS NULL)"


def _not(e: exp.Expression) -> str:
    inner = e.this
    if isinstance(inner, exp.Is):
        return f"({format_expression(inner.this)} IS NOT NULL)"
    return f"(NOT {format_expression(inner)})"


def _between(e: exp.Expression) -> str:
    return (
        f"({format_expression(e.this)} BETWEEN {format_expression(e.args['low'])} "
        f"AND {format_expression(e.args['high'])})"
    )


def _in(e: exp.Expression) -> str:
    return f"({format_expression(e.this)} IN ({_args(e.expressions)}))"


def _like(e: exp.Expression) -> str:
    return f"({format_expression(e.this)} LIKE {format_expression(e.expression)})"


def _escape(e: exp.Expression) -> str:
    return f"{_like(e.this)[:-1]} ESCAPE {format_expression(e.expression)})"


_HANDLERS: dict[type[exp.Expression], Callable[[exp.Expression], str]] = {
    exp.Column: _column,
    exp.Identifier: lambda e: format_name(e.name),
    exp.Literal: _literal,
    exp.Boolean: lambda e: "true" if e.this else "false",
    exp.Null: lambda e: "null",
    exp.Anonymous: _constructor,
    exp.Cast: _cast,
    exp.Array: lambda e: f"ARRAY[{_args(e.expressions)}]",
    exp.Bracket: lambda e: f"{format_expression(e.this)}[{_args(e.expressions)}]",
    exp.Paren: lambda e: format_expression(e.this),
    exp.Neg: lambda e: f"-{format_expression(e.this)}",
    exp.Not: _not,
    exp.Is: _is,
    exp.Case: _case,
    exp.Lambda: _lambda,
    exp.Between: _between,
    exp.In: _in,
    exp.Like: _like,
    exp.Escape: _escape,
    exp.Var: lambda e: str(e.this).upper(),
}
