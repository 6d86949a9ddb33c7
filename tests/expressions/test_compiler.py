"""Core compiler: columns, literals, operators, CASE, CAST, access, constructors."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
from conftest import Evaluate, compile_text
from ksqlexpr import parse

from engine import types as T
from engine.expressions import ExpressionError, Scope, ScopeEntry, compile_expression

ROWS = pa.table({
    "ID": pa.array([1, 2, None], pa.int32()),
    "BIG": pa.array([10_000_000_000, -3, None], pa.int64()),
    "NAME": ["a", "bob", None],
    "D": pa.array([1.5, -2.5, None]),
    "ARR": pa.array([[1, 2, 3], [4], None], pa.list_(pa.int32())),
    "S": pa.array([{"F1": 1, "f2": "x"}, None, {"F1": 3, "f2": None}],
                  pa.struct([("F1", pa.int32()), ("f2", pa.string())])),
    "M": pa.array([[("a", 1)], [], None], pa.map_(pa.string(), pa.int32())),
})


def typeof(text: str) -> str:
    return compile_text(text, ROWS).type.sql()


@pytest.mark.parametrize(("text", "expected"), [
    ("1", "INTEGER"), ("10000000000", "BIGINT"), ("1.5", "DECIMAL(2, 1)"), ("1e3", "DOUBLE"),
    ("ID + 1", "INTEGER"), ("ID + BIG", "BIGINT"), ("ID + D", "DOUBLE"), ("ID + 1.5", "DECIMAL(12, 1)"),
    ("1.5 * 2.25", "DECIMAL(6, 3)"), ("NAME", "STRING"), ("ID > 1", "BOOLEAN"),
    ("ARR[1]", "INTEGER"), ("S->F1", "INTEGER"), ("M['a']", "INTEGER"),
])
def test_types(text: str, expected: str) -> None:
    assert typeof(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("ID + 1", [2, 3, None]),
    ("ID / 0", [None, None, None]),
    ("7 / 2", [3] * 3),
    ("-7 / 2", [-3] * 3),
    ("-7 % 2", [-1] * 3),
    ("ID * 2147483647", [2147483647, -2, None]),
    ("D / 0", [float("inf"), float("-inf"), None]),
    ("ID + 1.5", [Decimal("2.5"), Decimal("3.5"), None]),
    ("ARR[-1]", [3, 4, None]),
    ("ARR[0]", [None, None, None]),
    ("ARR[5]", [None, None, None]),
    ("S->`f2`", ["x", None, None]),
    ("M['a']", [1, None, None]),
    ("CASE WHEN ID > 1 THEN 'big' WHEN ID = 1 THEN 'one' END", ["one", "big", None]),
    ("NAME LIKE 'b%'", [False, True, None]),
    ("ID = NULL", [False, False, False]),
    ("ID BETWEEN 2 AND 3", [False, True, False]),
    ("ID IN (1, 3)", [True, False, None]),
    ("ID IS NULL", [False, False, True]),
    ("ID IS DISTINCT FROM 1", [False, True, True]),
    ("NOT (ID = 1)", [False, True, True]),  # ksqlDB: comparing with NULL is false
])
def test_values(evaluate: Evaluate, text: str, expected: list[object]) -> None:
    assert evaluate(text, ROWS) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("CAST(ID AS STRING)", ["1", "2", None]),
    ("CAST(D AS INT)", [1, -2, None]),
    ("CAST(BIG AS INT)", [1410065408, -3, None]),
    ("CAST(ARR AS STRING)", ["[1, 2, 3]", "[4]", None]),
    ("CAST(S AS STRING)", ["Struct{F1=1,f2=x}", None, "Struct{F1=3,f2=null}"]),
    ("CAST(M AS STRING)", ["{a=1}", "{}", None]),
    ("CAST('12' AS INT)", [12] * 3),
    ("CAST('1.5' AS INT)", [None] * 3),
    ("CAST('x' AS DOUBLE)", [None] * 3),
    ("CAST(1e10 AS STRING)", ["1.0E10"] * 3),
    ("CAST(0.00001e0 AS STRING)", ["1.0E-5"] * 3),
    ("CAST(123.25e0 AS STRING)", ["123.25"] * 3),
    ("CAST(ARR AS ARRAY<STRING>)", [["1", "2", "3"], ["4"], None]),
])
def test_casts(evaluate: Evaluate, text: str, expected: list[object]) -> None:
    assert evaluate(text, ROWS) == expected


def test_constructors(evaluate: Evaluate) -> None:
    assert evaluate("STRUCT(A := ID, B := NAME)", ROWS)[0] == {"A": 1, "B": "a"}
    assert evaluate("MAP('x' := ID, 'x' := 5)", ROWS)[0] == {"x": 5}
    assert evaluate("ARRAY[ID, 2]", ROWS) == [[1, 2], [2, 2], [None, 2]]


def test_lambdas(evaluate: Evaluate) -> None:
    assert evaluate("TRANSFORM(ARR, x => x * 2)", ROWS) == [[2, 4, 6], [8], None]
    assert evaluate("FILTER(ARR, x => x > 1)", ROWS) == [[2, 3], [4], None]
    assert evaluate("REDUCE(ARR, 0, (s, x) => s + x)", ROWS) == [6, 4, 0]  # NULL array -> initial state
    assert evaluate("TRANSFORM(M, (k, v) => UCASE(k), (k, v) => v + 1)", ROWS)[0] == {"A": 2}


@pytest.mark.parametrize(("text", "message"), [
    ("BOB", "SELECT column 'BOB' cannot be resolved."),
    ("ID >= 'x'", "Cannot compare ID (INTEGER) to 'x' (STRING) with GREATER_THAN_OR_EQUAL."),
    ("1 + null", "Error processing expression: (1 + null). Arithmetic on types INTEGER and null are not supported."),
    ("WONT_FIND_ME(ID)", "Can't find any functions with the name 'WONT_FIND_ME'"),
    ("CAST(NAME AS ARRAY<INTEGER>)", "Cast of STRING to ARRAY<INTEGER> is not supported"),
])
def test_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_text(text, ROWS)
    assert message in info.value.message


def test_qualified_and_ambiguous_columns() -> None:
    scope = Scope([
        ScopeEntry("L", "ID", '"L_ID"', T.INTEGER),
        ScopeEntry("R", "ID", '"R_ID"', T.INTEGER),
        ScopeEntry("R", "NAME", '"R_NAME"', T.STRING),
    ])
    assert compile_expression(parse("L.ID"), scope).sql == '"L_ID"'
    assert compile_expression(parse("NAME"), scope).sql == '"R_NAME"'
    with pytest.raises(ExpressionError, match="Column 'ID' is ambiguous. Could be L.ID or R.ID."):
        compile_expression(parse("ID"), scope)
    with pytest.raises(ExpressionError, match="WHERE column 'X.ID' cannot be resolved."):
        compile_expression(parse("X.ID"), scope, clause="WHERE")
