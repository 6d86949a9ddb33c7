"""streamsql's parser: ksqlDB's statement language on a sqlglot dialect (``"ksql"``).

Public API
----------
``parse(text, variables=None, *, cli=False) -> list[Statement]``
    Parse a script of ``;``-separated statements into :mod:`parser.statements` dataclasses.
    ``${name}`` is substituted from ``variables`` and from DEFINE/UNDEFINE statements earlier in
    the same text (names case-insensitive; undefined variables are left as written; inside
    quoted strings/identifiers the value is quote-escaped). ``cli=True`` also accepts the
    CLI-only ``RUN SCRIPT`` (ksqlDB's server rejects it: "Unknown statement 'RUN'").
``parse_with_source(text, variables=None, *, cli=False) -> list[ParsedStatement]``
    Same, plus each statement's own source text (including its ``;``) and start line/column.
``parse_expression(text) -> sqlglot.exp.Expression``
    One ksqlDB expression.
``datatype_to_sqltype(dt) -> SqlType``
    Converts a CAST target (``exp.DataType``) to a :class:`parser.statements.SqlType`.
``ParseError``
    ``.message``, ``.line`` (1-based), ``.column`` (1-based, as in ksqlDB's ``line 1:8: ...``);
    ``str()`` adds the source line and a caret under the offending token.
``Ksql``
    The sqlglot dialect (``expr.sql(dialect="ksql")`` renders expressions back to ksqlDB text);
    every statement has ``.sql()`` giving canonical text with ``parse(s.sql()) == [s]``.

Expression AST contract
-----------------------
* Column: ``exp.Column(this=exp.Identifier(NAME, quoted=<backticked>), table=exp.Identifier(Q))``
  (``table`` absent when unqualified). Unquoted names are upper-cased; quoted keep their case.
  ``t.*`` is ``exp.Column(this=exp.Star(), table=exp.Identifier(T))``; ``*`` is ``exp.Star()``.
* ``a->b``: :class:`parser.expressions.Dereference` (``this`` = struct expression,
  ``expression`` = normalised ``exp.Identifier``), left-nested for ``a->b->c``. In projections
  ``s->*`` is ``Dereference(this=s, expression=exp.Star())``.
* ``x[i]``: ``exp.Bracket(this=x, expressions=[i])`` with ``i`` exactly as written.
* Function calls: ``exp.Anonymous(this=UPPER_NAME, expressions=[...])`` for every function
  (also SUBSTRING, CONCAT, COALESCE, ...). ``COUNT(*)`` has ``expressions=[exp.Star()]``.
  ``CAST(x AS t)`` is ``exp.Cast(this=x, to=exp.DataType)`` (see :mod:`parser.types`).
* ``STRUCT(a := 1, `b` := 'x')``: ``Anonymous("STRUCT", [exp.PropertyEQ(this=exp.Identifier(A),
  expression=...), ...])``; ``MAP(k := v, ...)``: ``Anonymous("MAP", [exp.PropertyEQ(this=<key
  expression>, expression=<value>), ...])``. ``ARRAY[1, 2]``: ``exp.Array(expressions=[...])``.
* A bare time unit argument (DAY, HOUR, MINUTE, SECOND, MILLISECOND and plurals, e.g.
  ``TIMESTAMPADD(MINUTES, 5, ts)``): ``exp.Var(this="MINUTES")``.
* Lambdas ``x => e`` / ``(x, y) => e``: ``exp.Lambda(this=e, expressions=[exp.Identifier(X),
  ...])``; inside ``e`` the variables are ordinary ``exp.Column`` references.
* Literals: ``exp.Literal.string``, ``exp.Literal.number`` (text as written: ``1``, ``1.5``,
  ``1e3``, ``.5``), ``exp.Boolean``, ``exp.Null``; ``-1`` is ``exp.Neg(Literal 1)``.
* Operators: exp.Add/Sub/Mul/Div/Mod/Neg, EQ/NEQ/GT/GTE/LT/LTE, And/Or/Not, DPipe (``||``),
  Between, In, Like (``ESCAPE`` wraps it in ``exp.Escape(this=Like, expression=<char>)``), Case
  (with ``exp.If`` branches), Paren for explicit parentheses. ``IS NULL`` is ``exp.Is(x, Null)``
  and ``IS NOT NULL`` is ``exp.Not(exp.Is(...))``; ``IS DISTINCT FROM`` is ``exp.NullSafeNEQ``
  and ``IS NOT DISTINCT FROM`` is ``exp.NullSafeEQ``. ``NOT LIKE``/``NOT IN``/``NOT BETWEEN``
  are ``exp.Not(...)`` around the positive form (never a ``negate`` flag).
* ``GROUP BY ()`` / ``PARTITION BY ()`` give ``(exp.Tuple(),)``: ksqlDB accepts the syntax and
  rejects it later ("PARTITION BY requires at least one expression").
"""

from __future__ import annotations

from parser._api import ParsedStatement, parse, parse_expression, parse_with_source
from parser._base import duration_ms
from parser.dialect import Ksql
from parser.errors import ParseError
from parser.types import datatype_to_sqltype

__all__ = [
    "Ksql",
    "ParseError",
    "ParsedStatement",
    "datatype_to_sqltype",
    "duration_ms",
    "parse",
    "parse_expression",
    "parse_with_source",
]
