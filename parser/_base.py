"""Token-level primitives shared by the ksql expression and statement parsers.

Everything here works on sqlglot's token stream through sqlglot's own parser helpers
(``_match``, ``_match_text_seq``, ``_advance``, ``_retreat``); failures raise
:class:`parser.errors.SyntaxFailure` carrying the offending token's offset.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, NoReturn

from sqlglot import exp
from sqlglot import parser as sqlglot_parser
from sqlglot.tokens import Token, TokenType

from parser.errors import SyntaxFailure
from parser.statements import SqlType

_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_@]*\Z")

# ksqlDB words that can never be an unquoted identifier (the grammar's reserved words that a
# ksql statement can run into where a name is allowed).
RESERVED_WORDS = frozenset(
    {
        "SELECT", "FROM", "AS", "WHERE", "WITHIN", "WINDOW", "GROUP", "BY", "HAVING", "LIMIT",
        "OR", "AND", "IN", "NOT", "EXISTS", "BETWEEN", "LIKE", "IS", "NULL", "TRUE", "FALSE",
        "CASE", "WHEN", "THEN", "ELSE", "END", "JOIN", "FULL", "OUTER", "INNER", "LEFT", "RIGHT",
        "ON", "CREATE", "INSERT", "INTO", "VALUES", "DISTINCT", "WITH",
    }
)

# Milliseconds per ksqlDB window/duration unit (singular and plural spellings).
UNIT_MS = {
    "MILLISECOND": 1, "SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000,
}
UNIT_MS.update({f"{unit}S": ms for unit, ms in list(UNIT_MS.items())})


def duration_ms(text: str) -> int | None:
    """Milliseconds of a duration property such as ``'10 SECONDS'``; None when malformed."""
    parts = str(text).split()
    if len(parts) != 2 or not parts[0].isdigit() or parts[1].upper() not in UNIT_MS:
        return None
    return int(parts[0]) * UNIT_MS[parts[1].upper()]

_BASE_TYPE_ALIASES = {"INT": "INTEGER", "VARCHAR": "STRING"}
_MAX_LONG = 2**63 - 1
_MAX_DOUBLE = Decimal("1.7976931348623157E308")


def token_display(token: Token | None) -> str:
    """ksqlDB's rendering of a token in messages: ``'TEXT'`` or ``<EOF>``."""
    if not token:
        return "<EOF>"
    if token.token_type == TokenType.STRING:
        return "''" + token.text.replace("'", "''") + "''"  # ANTLR quotes the token's own text
    if token.token_type == TokenType.IDENTIFIER:
        return f"'`{token.text}`'"
    return f"'{token.text}'"


def check_numeric_literal(text: str, negative: bool = False) -> None:
    """Reject numeric literals that ksqlDB refuses at parse time (BIGINT / DOUBLE overflow).

    Raises:
        ValueError: with ksqlDB's message when the literal does not fit its type.
    """
    sign = "-" if negative else ""
    try:
        value = Decimal(text)
    except ArithmeticError:  # e.g. `1E` with no exponent digits
        raise ValueError(f"Invalid numeric literal: {sign}{text}") from None
    if any(c in text for c in "eE"):
        if abs(value) > _MAX_DOUBLE:
            raise ValueError(f"Number overflows DOUBLE: {sign}{text}")
    elif "." not in text and value > _MAX_LONG + (1 if negative else 0):
        raise ValueError(f"Invalid numeric literal: {sign}{text}")


class KsqlBaseParser(sqlglot_parser.Parser):
    """sqlglot parser with ksqlDB token primitives (identifiers, literals, types, durations)."""

    # --- errors -------------------------------------------------------------------------------

    def raise_error(self, message: str, token: Token | None = None) -> None:  # type: ignore[override]
        """Route sqlglot's own errors (e.g. "Expecting )") through ksqlDB-style messages."""
        if message.startswith("Required keyword"):  # an operator without its right operand
            self._expected("expression")
        if message.startswith("Expecting "):
            self._fail(f"missing '{message[len('Expecting '):]}' at {token_display(self._curr)}")
        self._fail(f"Syntax error at or near {token_display(token or self._curr)}: {message}", token)

    def _fail(self, message: str, token: Token | None = None) -> NoReturn:
        """Raise a syntax failure at ``token`` (default: the current token, or end of input)."""
        token = token or self._curr
        if token:
            offset = token.start
        elif self._prev:
            offset = self._prev.end + 1
        else:
            offset = 0
        raise SyntaxFailure(message, offset)

    def _expected(self, what: str) -> NoReturn:
        """Fail with ksqlDB's ``mismatched input 'X' expecting <what>`` at the current token."""
        if not self._curr:
            self._fail(f"Syntax Error: mismatched input '<EOF>' expecting {what}")
        self._fail(f"Syntax Error: mismatched input {token_display(self._curr)} expecting {what}")

    def _expect_words(self, *words: str) -> None:
        """Consume the keyword sequence ``words`` or fail naming the first missing one."""
        for word in words:
            if not self._match_text_seq(word):
                self._expected(f"'{word}'")

    def _expect(self, token_type: TokenType, display: str) -> None:
        """Consume a token of ``token_type`` or fail (``display`` is how ksqlDB names it)."""
        if not self._match(token_type):
            self._expected(f"'{display}'")

    def _at_word(self, *words: str) -> bool:
        """True when the current token is one of ``words`` (not consumed)."""
        return self._match_texts(words, advance=False)

    # --- identifiers and literals -------------------------------------------------------------

    def _is_identifier_token(self, token: Token | None, allow_reserved: bool = False) -> bool:
        if not token:
            return False
        if token.token_type == TokenType.IDENTIFIER:
            return True
        if token.token_type != TokenType.VAR or not _IDENTIFIER_RE.match(token.text):
            return False
        return allow_reserved or token.text.upper() not in RESERVED_WORDS

    def _identifier(self, what: str = "identifier") -> exp.Identifier:
        """Parse a name: backticked keeps case and is ``quoted``, unquoted is upper-cased."""
        token = self._curr
        digit_name = self._digit_identifier()
        if digit_name is not None:
            return exp.Identifier(this=digit_name, quoted=False)
        if not self._is_identifier_token(token):
            self._expected(what)
        self._advance()
        quoted = token.token_type == TokenType.IDENTIFIER
        return exp.Identifier(this=token.text if quoted else token.text.upper(), quoted=quoted)

    def _digit_identifier(self) -> str | None:
        """ksqlDB's DIGIT_IDENTIFIER (e.g. ``1R``): digits glued to letters, lexed by sqlglot as a
        NUMBER token immediately followed by a VAR token."""
        token, nxt = self._curr, self._next
        if not (token and nxt and token.token_type == TokenType.NUMBER and token.text.isdigit()):
            return None
        if nxt.token_type != TokenType.VAR or nxt.start != token.end + 1 or not _IDENTIFIER_RE.match(nxt.text):
            return None
        self._advance(2)
        return (token.text + nxt.text).upper()

    def _name(self, what: str = "identifier") -> str:
        """Parse a name and return it normalised (see :meth:`_identifier`)."""
        return self._identifier(what).this

    def _string(self, what: str = "STRING") -> str:
        if not self._match(TokenType.STRING):
            self._expected(what)
        return self._prev.text

    def _integer(self, what: str = "INTEGER_VALUE") -> int:
        token = self._curr
        if not token or token.token_type != TokenType.NUMBER or not token.text.isdigit():
            self._expected(what)
        self._advance()
        return int(token.text)

    def _duration_ms(self) -> int:
        """Parse ``<integer> <unit>`` (e.g. ``5 MINUTES``) into milliseconds."""
        amount = self._integer()
        unit = self._curr.text.upper() if self._curr else ""
        if self._curr.token_type != TokenType.VAR or unit not in UNIT_MS:
            self._expected("{'DAY', 'HOUR', 'MINUTE', 'SECOND', 'MILLISECOND', ...}")
        self._advance()
        return amount * UNIT_MS[unit]

    def _property_value(self) -> Any:
        """A WITH-clause literal as a Python value: str, int, float, bool or None."""
        negative = self._match(TokenType.DASH)
        token = self._curr
        if self._match(TokenType.NUMBER):
            try:
                check_numeric_literal(token.text, negative)
            except ValueError as err:
                self._fail(str(err), token)
            text = token.text
            value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
            return -value if negative else value
        if negative:
            self._expected("number")
        if self._match(TokenType.STRING):
            return token.text
        if self._match(TokenType.TRUE) or self._match(TokenType.FALSE):
            return token.token_type == TokenType.TRUE
        if self._match(TokenType.NULL):
            return None
        self._expected("{STRING, INTEGER_VALUE, DECIMAL_VALUE, 'TRUE', 'FALSE'}")

    def _properties(self) -> dict[str, Any]:
        """``( key = literal, ... )``: keys upper-cased (identifier or string), values typed."""
        self._expect(TokenType.L_PAREN, "(")
        props: dict[str, Any] = {}
        while True:
            if self._match(TokenType.STRING):
                key = self._prev.text.upper()
            else:
                key = self._name("{STRING, identifier}").upper()
            self._expect(TokenType.EQ, "=")
            props[key] = self._property_value()
            if not self._match(TokenType.COMMA):
                break
        self._expect(TokenType.R_PAREN, ")")
        return props

    # --- types --------------------------------------------------------------------------------

    def _sql_type(self) -> SqlType:
        """Parse a ksqlDB type (``ARRAY<..>``, ``MAP<..,..>``, ``STRUCT<..>``, ``DECIMAL(p,s)``,
        a primitive or a custom type name)."""
        token = self._curr
        if not self._is_identifier_token(token):
            self._expected("type")
        upper = token.text.upper() if token.token_type == TokenType.VAR else None
        self._advance()
        if upper == "ARRAY":
            self._expect(TokenType.LT, "<")
            item = self._sql_type()
            self._expect(TokenType.GT, ">")
            return SqlType("ARRAY", items=(item,))
        if upper == "MAP":
            self._expect(TokenType.LT, "<")
            key = self._sql_type()
            self._expect(TokenType.COMMA, ",")
            value = self._sql_type()
            self._expect(TokenType.GT, ">")
            return SqlType("MAP", items=(key, value))
        if upper == "STRUCT":
            return self._struct_type()
        base = _BASE_TYPE_ALIASES.get(upper, upper) if upper else token.text
        params = self._type_params()
        return SqlType(base, params=params if base == "DECIMAL" else ())

    def _struct_type(self) -> SqlType:
        if self._match(TokenType.NEQ):  # `STRUCT<>` lexes as STRUCT followed by `<>`
            return SqlType("STRUCT")
        self._expect(TokenType.LT, "<")
        fields: list[tuple[str, SqlType]] = []
        if not self._match(TokenType.GT):
            while True:
                name = self._identifier().this
                fields.append((name, self._sql_type()))
                if not self._match(TokenType.COMMA):
                    break
            self._expect(TokenType.GT, ">")
        return SqlType("STRUCT", fields=tuple(fields))

    def _type_params(self) -> tuple[int, ...]:
        """``(n, ...)`` after a base type; ksqlDB also allows the word STRING as a parameter."""
        if not self._match(TokenType.L_PAREN):
            return ()
        params: list[int] = []
        while True:
            if self._match_text_seq("STRING"):
                pass
            else:
                params.append(self._integer("{'STRING', INTEGER_VALUE}"))
            if not self._match(TokenType.COMMA):
                break
        if not self._match(TokenType.R_PAREN):
            self._expected("{',', ')'}")
        return tuple(params)
