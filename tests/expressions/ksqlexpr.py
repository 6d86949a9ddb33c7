"""Parse ksql expression text for tests: the project's parser when it is available, otherwise
sqlglot's Spark dialect normalised to the parser's AST contract."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp


def _deref_class() -> type[exp.Expression]:
    from parser.expressions import Dereference

    return Dereference


def parse(text: str) -> exp.Expression:
    """Parse a ksql expression into the AST contract of parser/."""
    try:
        from parser import parse_expression  # type: ignore[attr-defined]
    except ImportError:
        return _fallback(text)
    result: exp.Expression = parse_expression(text)
    return result


_NOT_FUNCS = {
    "IN", "AND", "OR", "NOT", "WHEN", "THEN", "ELSE", "CAST", "BETWEEN", "IS", "CASE", "AS",
    "LIKE", "ESCAPE", "DECIMAL", "ARRAY", "MAP", "STRUCT", "SELECT", "FROM", "WHERE", "END",
}


def _mark_call(m: re.Match[str]) -> str:
    name = m.group(1)
    if name.upper() in _NOT_FUNCS:
        return m.group(0)
    return f"{name}__F("


def _fallback(text: str) -> exp.Expression:
    # Spark reads backticks and `x => y`; `a->b` arrives as JSONExtract, handled below.
    # Every call is renamed NAME__F so sqlglot keeps it Anonymous with the ksql name.
    text = re.sub(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(", _mark_call, text)
    text = re.sub(r"\bMAP\s*\(", "MAP_CTOR__(", text, flags=re.I)
    text = re.sub(r"\bSTRUCT\s*\(", "STRUCT_CTOR__(", text, flags=re.I)
    text = text.replace(":=", ",")
    # Multi-parameter lambdas `(a, b) => x` become a single encoded name `__L__a__b => x`.
    text = re.sub(
        r"\(\s*(\w+(?:\s*,\s*\w+)+)\s*\)\s*=>",
        lambda m: "__L__" + "__".join(p.strip() for p in m.group(1).split(",")) + " =>",
        text,
    )
    text = re.sub(r"\(\s*(\w+)\s*\)\s*=>", r"\1 =>", text)
    tree = sqlglot.parse_one(text, read="spark")
    return _normalise(tree)


def _normalise(node: exp.Expression) -> exp.Expression:
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _normalise(value))
        elif isinstance(value, list):
            node.set(key, [_normalise(v) if isinstance(v, exp.Expression) else v for v in value])
    return _fix(node)


def _upper_ident(ident: exp.Expression) -> exp.Identifier:
    name = ident.name
    quoted = bool(ident.args.get("quoted"))
    return exp.Identifier(this=name if quoted else name.upper())


def _fix(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
        table = node.args.get("table")
        return exp.Column(
            this=_upper_ident(node.this),
            table=_upper_ident(table) if table is not None else None,
        )
    if isinstance(node, exp.JSONExtract):
        return _deref_class()(this=node.this, expression=_upper_ident(node.expression.this))
    if isinstance(node, exp.TryCast):
        return exp.Cast(this=node.this, to=node.args["to"])
    if isinstance(node, exp.Anonymous) and str(node.this).upper() in ("MAP_CTOR__", "STRUCT_CTOR__"):
        name = str(node.this).upper().removesuffix("_CTOR__")
        args = node.expressions
        pairs = [
            exp.PropertyEQ(this=_upper_ident(k.this) if name == "STRUCT" else k, expression=v)
            for k, v in zip(args[0::2], args[1::2], strict=True)
        ]
        return exp.Anonymous(this=name, expressions=pairs)
    if isinstance(node, exp.Anonymous):
        name = str(node.this).upper().removesuffix("__F")
        return exp.Anonymous(this=name, expressions=node.expressions)
    if isinstance(node, exp.Kwarg):
        names = node.this.name.removeprefix("__L__").split("__")
        return exp.Lambda(this=node.expression, expressions=[exp.Identifier(this=n.upper()) for n in names])
    if isinstance(node, exp.Lambda):
        return exp.Lambda(this=node.this, expressions=[_upper_ident(p) for p in node.expressions])
    return node
