"""The ksqlDB expression grammar on top of sqlglot's precedence-climbing expression parser.

sqlglot drives operator precedence (OR, AND, NOT, comparisons, IS/IN/BETWEEN/LIKE, ``||``,
``+ -``, ``* / %``, unary ``-``); this module customises the leaves: literals, column references,
``a->b`` dereferences, ``x[i]`` subscripts, function calls (always ``exp.Anonymous`` except CAST),
``ARRAY[...]``, ``MAP(k := v)``, ``STRUCT(f := v)``, lambdas and bare time-unit arguments.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from sqlglot import exp
from sqlglot import parser as sqlglot_parser
from sqlglot.tokens import TokenType

from parser._base import UNIT_MS, KsqlBaseParser, check_numeric_literal
from parser.expressions import Dereference
from parser.types import sqltype_to_datatype

_P = sqlglot_parser.Parser


class KsqlExpressionParser(KsqlBaseParser):
    """Parser for ksqlDB expressions (the statement parser builds on it)."""

    FUNCTIONS: ClassVar[dict[str, Any]] = {}
    FUNCTION_PARSERS: ClassVar[dict[str, Any]] = {}
    NO_PAREN_FUNCTIONS: ClassVar[dict[Any, Any]] = {}
    NO_PAREN_FUNCTION_PARSERS = {"CASE": _P.NO_PAREN_FUNCTION_PARSERS["CASE"]}
    UNARY_PARSERS = {
        TokenType.PLUS: _P.UNARY_PARSERS[TokenType.PLUS],
        TokenType.NOT: _P.UNARY_PARSERS[TokenType.NOT],
    }
    RANGE_PARSERS = {k: _P.RANGE_PARSERS[k] for k in (TokenType.IN, TokenType.IS, TokenType.LIKE)}
    RANGE_PARSERS[TokenType.BETWEEN] = lambda self, this: self._parse_between(this)
    EQUALITY = {TokenType.EQ: exp.EQ, TokenType.NEQ: exp.NEQ}
    BITWISE: ClassVar[dict[Any, Any]] = {}
    TERM = {TokenType.DASH: exp.Sub, TokenType.PLUS: exp.Add}
    FACTOR = {TokenType.MOD: exp.Mod, TokenType.SLASH: exp.Div, TokenType.STAR: exp.Mul}
    LAMBDAS: ClassVar[dict[Any, Any]] = {}
    COLUMN_OPERATORS: ClassVar[dict[Any, Any]] = {}
    ASSIGNMENT: ClassVar[dict[Any, Any]] = {}

    # --- entry points ---------------------------------------------------------------------------

    def _expression(self) -> exp.Expression:
        """Parse a full (boolean) expression or fail."""
        this = self._parse_disjunction()
        if this is None:
            self._expected("expression")
        return cast(exp.Expression, this)

    def _value_expression(self) -> exp.Expression:
        """ksqlDB's ``valueExpression``: no top-level AND/OR/NOT/comparison (GROUP/PARTITION BY)."""
        this = self._parse_bitwise()
        if this is None:
            self._expected("expression")
        return cast(exp.Expression, this)

    # --- precedence hooks -------------------------------------------------------------------

    def _parse_bitwise(self) -> exp.Expr | None:
        """``||`` concatenation is the only operator between comparison and ``+ -``."""
        this = self._parse_term()
        while self._match(TokenType.DPIPE):
            this = self.expression(exp.DPipe(this=this, expression=self._parse_term()))
        return this

    def _parse_unary(self) -> exp.Expr | None:
        """Unary minus; ``-<number>`` is checked against ksqlDB's literal ranges with its sign."""
        if not self._match(TokenType.DASH):
            return super()._parse_unary()
        if self._curr.token_type == TokenType.NUMBER and self._next.token_type not in (
            TokenType.L_BRACKET,
            TokenType.ARROW,
        ):
            token = self._curr
            self._advance()
            self._check_number(token.text, token, negative=True)
            return self.expression(exp.Neg(this=exp.Literal.number(token.text)))
        operand = self._parse_unary()
        if operand is None:
            self._expected("expression")
        return self.expression(exp.Neg(this=operand))

    def _negate_range(self, this: exp.Expr | None = None) -> exp.Expr | None:
        """``x NOT LIKE/IN/BETWEEN ...`` is always ``exp.Not(...)`` (never a ``negate`` flag)."""
        return self.expression(exp.Not(this=this)) if this else this

    def _parse_between(self, this: exp.Expr | None) -> exp.Between:
        low = self._parse_bitwise()
        self._expect(TokenType.AND, "AND")
        high = self._parse_bitwise()
        return self.expression(exp.Between(this=this, low=low, high=high))

    def _parse_in(self, this: exp.Expr | None, alias: bool = False) -> exp.In:
        self._expect(TokenType.L_PAREN, "(")
        items = [] if self._curr.token_type == TokenType.R_PAREN else self._parse_csv(self._expression)
        self._expect(TokenType.R_PAREN, ")")
        return self.expression(exp.In(this=this, expressions=items))

    def _parse_type(
        self, parse_interval: bool = True, fallback_to_identifier: bool = False
    ) -> exp.Expr | None:
        """sqlglot's atom hook: a ksqlDB primary expression followed by ``[i]`` / ``->f``."""
        this = self._primary()
        return self._postfix(this) if this is not None else None

    # --- primaries ------------------------------------------------------------------------------

    def _primary(self) -> exp.Expr | None:
        token = self._curr
        if not token:
            return None
        tt = token.token_type
        if tt == TokenType.NUMBER:
            self._advance()
            self._check_number(token.text, token)
            return exp.Literal.number(token.text)
        if tt == TokenType.DOT and self._next.token_type == TokenType.NUMBER and self._next.start == token.end + 1:
            self._advance(2)  # `.5`: sqlglot lexes a leading-dot decimal as DOT NUMBER
            return exp.Literal.number("." + self._prev.text)
        if tt == TokenType.STRING:
            self._advance()
            return exp.Literal.string(token.text)
        if tt in (TokenType.NULL, TokenType.TRUE, TokenType.FALSE):
            self._advance()
            return exp.Null() if tt == TokenType.NULL else exp.Boolean(this=tt == TokenType.TRUE)
        if tt == TokenType.CASE:
            self._advance()
            return self._parse_case()
        if tt == TokenType.L_PAREN:
            self._advance()
            inner = self._expression()
            self._expect(TokenType.R_PAREN, ")")
            return exp.Paren(this=inner)
        if tt in (TokenType.VAR, TokenType.IDENTIFIER):
            return self._named_primary()
        return None

    def _named_primary(self) -> exp.Expression:
        """A word: ARRAY[...] constructor, function call, or (qualified) column reference."""
        token = self._curr
        upper = token.text.upper() if token.token_type == TokenType.VAR else None
        if upper == "ARRAY" and self._next.token_type == TokenType.L_BRACKET:
            self._advance(2)
            items = [] if self._curr.token_type == TokenType.R_BRACKET else self._parse_csv(self._expression)
            self._expect(TokenType.R_BRACKET, "]")
            return exp.Array(expressions=items)
        if self._next.token_type == TokenType.L_PAREN and self._is_identifier_token(token, allow_reserved=True):
            return self._function_call()
        first = self._identifier("expression")
        if not self._match(TokenType.DOT):
            return exp.Column(this=first)
        if self._match(TokenType.STAR):
            return exp.Column(this=exp.Star(), table=first)
        return exp.Column(this=self._identifier(), table=first)

    def _postfix(self, this: exp.Expr) -> exp.Expr:
        """Subscripts ``x[i]`` and struct dereferences ``x->f`` (left-associative)."""
        while True:
            if self._match(TokenType.L_BRACKET):
                index = self._expression()
                self._expect(TokenType.R_BRACKET, "]")
                this = exp.Bracket(this=this, expressions=[index])
            elif self._curr.token_type == TokenType.ARROW and self._next.token_type != TokenType.STAR:
                self._advance()
                this = Dereference(this=this, expression=self._identifier())
            else:
                return this

    def _check_number(self, text: str, token: Any, negative: bool = False) -> None:
        try:
            check_numeric_literal(text, negative)
        except ValueError as err:
            self._fail(str(err), token)

    # --- function calls ---------------------------------------------------------------------

    def _function_call(self) -> exp.Expression:
        # Function names are case-insensitive in ksqlDB, quoted or not, so they are always upper.
        name = self._curr.text.upper()
        self._advance(2)  # name and '('
        if name == "CAST":
            return self._cast()
        if name in ("MAP", "STRUCT"):
            args = self._assignments(struct=name == "STRUCT")
        elif self._match(TokenType.STAR):
            args = [exp.Star()]
        elif self._curr.token_type == TokenType.R_PAREN:
            args = []
        else:
            args = self._parse_csv(self._function_argument)
        self._expect(TokenType.R_PAREN, ")")
        return exp.Anonymous(this=name, expressions=args)

    def _cast(self) -> exp.Cast:
        this = self._expression()
        self._expect(TokenType.ALIAS, "AS")
        to = sqltype_to_datatype(self._sql_type())
        self._expect(TokenType.R_PAREN, ")")
        return exp.Cast(this=this, to=to)

    def _assignments(self, struct: bool) -> list[exp.Expression]:
        """``k := v, ...`` of MAP(...) (key is an expression) or STRUCT(...) (key is a name)."""
        items: list[exp.Expression] = []
        if self._curr.token_type == TokenType.R_PAREN:
            return items
        while True:
            key: exp.Expression = self._identifier() if struct else self._expression()
            self._expect(TokenType.COLON_EQ, ":=")
            items.append(exp.PropertyEQ(this=key, expression=self._expression()))
            if not self._match(TokenType.COMMA):
                return items

    def _function_argument(self) -> exp.Expression:
        """An argument: a lambda, a bare time unit (``exp.Var``) or an expression."""
        lam = self._lambda()
        if lam is not None:
            return lam
        token = self._curr
        if (
            token.token_type == TokenType.VAR
            and token.text.upper() in UNIT_MS
            and self._next.token_type in (TokenType.COMMA, TokenType.R_PAREN)
        ):
            self._advance()
            return exp.Var(this=token.text.upper())
        return self._expression()

    def _lambda(self) -> exp.Lambda | None:
        """``x => body`` or ``(x, y) => body``; returns None (nothing consumed) otherwise."""
        index = self._index
        params: list[exp.Identifier] = []
        if self._is_identifier_token(self._curr) and self._next.token_type == TokenType.FARROW:
            params.append(self._identifier())
        elif self._match(TokenType.L_PAREN):
            while self._is_identifier_token(self._curr):
                params.append(self._identifier())
                if not self._match(TokenType.COMMA):
                    break
            if not (params and self._match(TokenType.R_PAREN) and self._curr.token_type == TokenType.FARROW):
                self._retreat(index)
                return None
        else:
            return None
        self._expect(TokenType.FARROW, "=>")
        return exp.Lambda(this=self._expression(), expressions=params)
