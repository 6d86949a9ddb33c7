"""Implementation of the public API: splitting a script into statements, ``${var}`` substitution,
and conversion of internal failures into :class:`parser.errors.ParseError`."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from parser._commands import KsqlParser
from parser.dialect import DIALECT
from parser.errors import ParseError, SyntaxFailure
from parser.statements import Define, Statement, Undefine
from parser.tokenizer import KsqlTokenizer

_VARIABLE_RE = re.compile(r"\$\{([^}]*)\}")
_NEWLINE_RE = re.compile(r"\n")


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """A parsed statement with its own source text (including the trailing ``;``) and the 1-based
    line and column where it starts in the parsed text."""

    statement: Statement
    text: str
    line: int
    column: int


def _tokenize(text: str) -> list[Token]:
    tokenizer = KsqlTokenizer()
    try:
        return tokenizer.tokenize(text)
    except TokenError:
        # The tokenizer stops at the start of the token it could not finish (an unterminated
        # string, quoted identifier or comment); report that position the way ANTLR does.
        start = getattr(getattr(tokenizer, "_core", None), "_start", 0)
        rest = text[start:].split("\n", 1)[0]
        raise ParseError.at_offset(f"token recognition error at: '{rest}'", text, start) from None


def _split(tokens: list[Token]) -> Iterator[tuple[list[Token], Token | None]]:
    """Yield each statement's tokens and its terminating ``;`` token (None for the last one)."""
    current: list[Token] = []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if current:
                yield current, token
            current = []
        else:
            current.append(token)
    if current:
        yield current, None


def _substitute(text: str, tokens: list[Token], base: int, variables: dict[str, str]) -> str:
    """Replace ``${name}`` in one statement's text; inside quoted strings/identifiers the value
    is escaped so it stays inside the literal (as ksqlDB's substitutor does)."""

    def replace(segment: str, quote: str | None) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1).strip().upper()
            if name not in variables:
                return match.group(0)  # undefined: left as written, like ksqlDB
            return variables[name].replace(quote, quote * 2) if quote else variables[name]

        return _VARIABLE_RE.sub(value, segment)

    out: list[str] = []
    pos = base
    for token in tokens:
        if token.token_type in (TokenType.STRING, TokenType.IDENTIFIER):
            out.append(replace(text[pos : token.start], None))
            quote = text[token.start]
            out.append(replace(text[token.start : token.end + 1], quote))
            pos = token.end + 1
    out.append(replace(text[pos : tokens[-1].end + 1], None))
    return "".join(out)


def _position(text: str, offset: int, line_starts: list[int] | None = None) -> tuple[int, int]:
    """1-based (line, column) of ``offset``; ``line_starts`` (see :func:`_line_starts`) makes the
    lookup logarithmic for long scripts."""
    starts = line_starts if line_starts is not None else _line_starts(text)
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def _line_starts(text: str) -> list[int]:
    return [0, *(m.end() for m in _NEWLINE_RE.finditer(text))]


def _parse_one(tokens: list[Token], text: str, variables: dict[str, str], cli: bool) -> Statement:
    start = tokens[0].start
    parser = KsqlParser(dialect=DIALECT)
    parser.allow_cli_statements = cli
    if variables and any(t.text == "$" or "${" in t.text for t in tokens):
        stmt_text = _substitute(text, tokens, start, variables)
        try:
            return parser.parse_statement(_tokenize(stmt_text), stmt_text)
        except ParseError as err:
            raise _shift(err, text, start) from None
        except SyntaxFailure as failure:
            raise _shift(ParseError.at_offset(failure.message, stmt_text, failure.offset), text, start) from None
    try:
        return parser.parse_statement(tokens, text)
    except SyntaxFailure as failure:
        raise ParseError.at_offset(failure.message, text, failure.offset) from None


def _shift(err: ParseError, text: str, start: int) -> ParseError:
    """Re-base an error found in a substituted statement onto the original text's position."""
    line, column = _position(text, start)
    if err.line == 1:
        column += err.column - 1
    else:
        column = err.column
    return ParseError(err.message, line + err.line - 1, column, err.source_line)


def parse_with_source(
    text: str, variables: dict[str, str] | None = None, *, cli: bool = False
) -> list[ParsedStatement]:
    """Parse a script of ``;``-separated statements, keeping each statement's source.

    Args:
        text: The script.
        variables: ``${name}`` substitutions (names are case-insensitive); DEFINE/UNDEFINE
            statements in the script update them for the statements that follow.
        cli: Also accept CLI-only statements (RUN SCRIPT), which ksqlDB's server rejects.

    Raises:
        ParseError: at the first statement that does not parse.
    """
    scope = {k.upper(): v for k, v in (variables or {}).items()}
    tokens = _tokenize(text)
    line_starts = _line_starts(text)
    results: list[ParsedStatement] = []
    for stmt_tokens, semicolon in _split(tokens):
        statement = _parse_one(stmt_tokens, text, scope, cli)
        if isinstance(statement, Define):
            scope[statement.name.upper()] = statement.value
        elif isinstance(statement, Undefine):
            scope.pop(statement.name.upper(), None)
        end = (semicolon or stmt_tokens[-1]).end + 1
        line, column = _position(text, stmt_tokens[0].start, line_starts)
        results.append(ParsedStatement(statement, text[stmt_tokens[0].start : end], line, column))
    return results


def parse(text: str, variables: dict[str, str] | None = None, *, cli: bool = False) -> list[Statement]:
    """Parse a script of ``;``-separated statements (see :func:`parse_with_source`)."""
    return [p.statement for p in parse_with_source(text, variables, cli=cli)]


def parse_expression(text: str) -> exp.Expression:
    """Parse one ksqlDB expression (e.g. ``a->b[1] + LEN(s)``) into a sqlglot tree.

    Raises:
        ParseError: if ``text`` is not exactly one expression.
    """
    tokens = _tokenize(text)
    if not tokens:
        raise ParseError("mismatched input '<EOF>' expecting expression", 1, 1, text)
    try:
        return KsqlParser(dialect=DIALECT).parse_expression_tokens(tokens, text)
    except SyntaxFailure as failure:
        raise ParseError.at_offset(failure.message, text, failure.offset) from None
