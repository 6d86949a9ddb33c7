"""The expression AST contract the engine's compiler relies on (see parser/__init__.py)."""

from __future__ import annotations

import pytest
from sqlglot import exp

from parser import datatype_to_sqltype, parse_expression
from parser.expressions import Dereference
from parser.statements import SqlType


def col(name: str, table: str | None = None, quoted: bool = False) -> exp.Column:
    return exp.Column(
        this=exp.Identifier(this=name, quoted=quoted),
        table=exp.Identifier(this=table, quoted=False) if table else None,
    )


def num(text: str) -> exp.Literal:
    return exp.Literal.number(text)


def test_columns_are_normalised() -> None:
    assert parse_expression("abc") == col("ABC")
    assert parse_expression("`abc`") == col("abc", quoted=True)
    assert parse_expression("t.abc") == col("ABC", "T")
    assert parse_expression('"Mixed"') == col("Mixed", quoted=True)


def test_dereference_nests_left() -> None:
    tree = parse_expression("a->b->`c`")
    assert tree == Dereference(
        this=Dereference(this=col("A"), expression=exp.Identifier(this="B", quoted=False)),
        expression=exp.Identifier(this="c", quoted=True),
    )


def test_subscript() -> None:
    assert parse_expression("arr[-1]") == exp.Bracket(this=col("ARR"), expressions=[exp.Neg(this=num("1"))])
    assert parse_expression("m['k']") == exp.Bracket(this=col("M"), expressions=[exp.Literal.string("k")])


@pytest.mark.parametrize("name", ["substring", "ucase", "concat", "coalesce", "ifnull", "abs", "round", "len"])
def test_every_function_is_anonymous(name: str) -> None:
    tree = parse_expression(f"{name}(x, 1)")
    assert tree == exp.Anonymous(this=name.upper(), expressions=[col("X"), num("1")])
    assert tree.name == name.upper()


def test_count_star_and_cast() -> None:
    assert parse_expression("count(*)") == exp.Anonymous(this="COUNT", expressions=[exp.Star()])
    cast = parse_expression("CAST(x AS STRUCT<a INT, `b` ARRAY<VARCHAR>>)")
    assert isinstance(cast, exp.Cast)
    assert datatype_to_sqltype(cast.args["to"]) == SqlType(
        "STRUCT", fields=(("A", SqlType("INTEGER")), ("b", SqlType("ARRAY", items=(SqlType("STRING"),))))
    )


def test_constructors() -> None:
    assert parse_expression("STRUCT(a := 1, `b` := 'x')") == exp.Anonymous(
        this="STRUCT",
        expressions=[
            exp.PropertyEQ(this=exp.Identifier(this="A", quoted=False), expression=num("1")),
            exp.PropertyEQ(this=exp.Identifier(this="b", quoted=True), expression=exp.Literal.string("x")),
        ],
    )
    assert parse_expression("MAP(k := 1)") == exp.Anonymous(
        this="MAP", expressions=[exp.PropertyEQ(this=col("K"), expression=num("1"))]
    )
    assert parse_expression("ARRAY[1, 2]") == exp.Array(expressions=[num("1"), num("2")])


def test_unit_arguments_and_lambdas() -> None:
    tree = parse_expression("TIMESTAMPADD(MINUTES, 5, ts)")
    assert tree.expressions[0] == exp.Var(this="MINUTES")
    lam = parse_expression("TRANSFORM(m, (k, v) => k + v, x => x)").expressions[1]
    assert lam == exp.Lambda(
        this=exp.Add(this=col("K"), expression=col("V")),
        expressions=[exp.Identifier(this="K", quoted=False), exp.Identifier(this="V", quoted=False)],
    )


def test_literals_keep_text() -> None:
    for text in ("1", "1.5", "1e3", "1.5E-3", ".5"):
        assert parse_expression(text) == num(text)
    assert parse_expression("-1") == exp.Neg(this=num("1"))
    assert parse_expression("TRUE") == exp.Boolean(this=True)
    assert parse_expression("NULL") == exp.Null()
    assert parse_expression("'it''s'") == exp.Literal.string("it's")


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        ("a + b", exp.Add), ("a - b", exp.Sub), ("a * b", exp.Mul), ("a / b", exp.Div), ("a % b", exp.Mod),
        ("a = b", exp.EQ), ("a <> b", exp.NEQ), ("a != b", exp.NEQ), ("a > b", exp.GT), ("a >= b", exp.GTE),
        ("a < b", exp.LT), ("a <= b", exp.LTE), ("a AND b", exp.And), ("a OR b", exp.Or), ("NOT a", exp.Not),
        ("a IS NULL", exp.Is), ("a IS DISTINCT FROM b", exp.NullSafeNEQ),
        ("a IS NOT DISTINCT FROM b", exp.NullSafeEQ), ("a BETWEEN 1 AND 2", exp.Between),
        ("a IN (1, 2)", exp.In), ("a LIKE 'x%'", exp.Like), ("a || b", exp.DPipe), ("(a)", exp.Paren),
        ("CASE WHEN a THEN 1 ELSE 2 END", exp.Case), ("a LIKE 'x!%' ESCAPE '!'", exp.Escape),
    ],
)
def test_operators(text: str, cls: type[exp.Expression]) -> None:
    tree = parse_expression(text)
    assert type(tree) is cls
    assert parse_expression(tree.sql(dialect="ksql")) == tree


def test_negations_wrap_in_not() -> None:
    assert parse_expression("a IS NOT NULL") == exp.Not(this=exp.Is(this=col("A"), expression=exp.Null()))
    for text in ("a NOT LIKE 'x'", "a NOT IN (1)", "a NOT BETWEEN 1 AND 2"):
        tree = parse_expression(text)
        assert isinstance(tree, exp.Not) and not tree.this.args.get("negate")


def test_precedence() -> None:
    tree = parse_expression("a OR b AND NOT c = 1 + 2 * 3")
    assert isinstance(tree, exp.Or) and isinstance(tree.expression, exp.And)
    assert isinstance(tree.expression.expression, exp.Not)
    assert isinstance(tree.expression.expression.this.expression.expression, exp.Mul)
