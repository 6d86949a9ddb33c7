"""The complete ksql statement parser: statement dispatch plus the short command statements
(SHOW/LIST, DESCRIBE, EXPLAIN, TERMINATE, PAUSE/RESUME, SET/UNSET, DEFINE/UNDEFINE, PRINT,
RUN SCRIPT)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot.tokens import Token, TokenType

from parser._ddl import KsqlDdlParser
from parser.statements import (
    Define,
    Describe,
    Explain,
    PauseResume,
    Print,
    Query,
    RunScript,
    SetProperty,
    Show,
    Statement,
    Terminate,
    Undefine,
    UnsetProperty,
)

_SHOW_SIMPLE = {
    "PROPERTIES": "PROPERTIES", "STREAMS": "STREAMS", "TABLES": "TABLES", "QUERIES": "QUERIES",
    "FUNCTIONS": "FUNCTIONS", "TYPES": "TYPES", "VARIABLES": "VARIABLES", "TOPICS": "TOPICS",
    "CONNECTORS": "CONNECTORS",
}
_EXTENDABLE = {"STREAMS", "TABLES", "QUERIES", "TOPICS"}


class KsqlParser(KsqlDdlParser):
    """Parses one ksqlDB statement from a token list (see :meth:`parse_statement`)."""

    #: Whether CLI-only statements (RUN SCRIPT) are accepted; the server grammar rejects them.
    allow_cli_statements = False

    def parse_statement(self, tokens: list[Token], sql: str) -> Statement:
        """Parse exactly one statement from ``tokens`` (no trailing ``;``) of source ``sql``."""
        self._start(tokens, sql)
        statement = self._statement()
        if self._curr:
            self._expected("{';', <EOF>}")
        return statement

    def parse_expression_tokens(self, tokens: list[Token], sql: str) -> Any:
        """Parse a single standalone expression."""
        self._start(tokens, sql)
        expression = self._expression()
        if self._curr:
            self._expected("<EOF>")
        return expression

    def _parse_statement(self) -> Any:
        """sqlglot's entry point (``sqlglot.parse_one(text, read="ksql")``): the ``ksql`` dialect
        parses ksqlDB *expressions* into sqlglot trees; statements go through ``parser.parse``."""
        return self._expression() if self._curr else None

    def _start(self, tokens: list[Token], sql: str) -> None:
        self.reset()
        self.sql = sql
        self._tokens = tokens
        self._tokens_size = len(tokens)  # type: ignore[assignment]
        self._index = -1  # type: ignore[assignment]
        self._advance()

    def _statement(self) -> Statement:
        token = self._curr
        if token.token_type == TokenType.SELECT:
            return Query(self._select())
        word = token.text.upper() if token.token_type == TokenType.VAR else ""
        handler = self._STATEMENTS.get(word)
        if handler is None or (word == "RUN" and not self.allow_cli_statements):
            self._fail(f"Syntax Error\nUnknown statement {token_display_plain(token)}")
        self._advance()
        return handler(self)

    # --- command statements -------------------------------------------------------------------

    def _show(self) -> Show:
        all_topics = self._match_text_seq("ALL")
        if self._match_text_seq("CONNECTOR", "PLUGINS"):
            return Show("CONNECTOR PLUGINS")
        connector_type = self._prev.text.upper() if self._match_texts(("SOURCE", "SINK")) else None
        if not self._match_texts(tuple(_SHOW_SIMPLE)):
            self._expected("{'STREAMS', 'TABLES', 'QUERIES', 'TOPICS', 'FUNCTIONS', 'TYPES', ...}")
        what = _SHOW_SIMPLE[self._prev.text.upper()]
        if (all_topics and what != "TOPICS") or (connector_type and what != "CONNECTORS"):
            self._fail(f"Syntax error at or near '{self._prev.text}'", self._prev)
        extended = what in _EXTENDABLE and self._match_text_seq("EXTENDED")
        return Show(what, extended, all_topics, connector_type)  # type: ignore[arg-type]

    def _describe(self) -> Describe:
        if self._match_text_seq("FUNCTION"):
            return Describe("FUNCTION", self._name("function name"))
        if self._match_text_seq("CONNECTOR"):
            return Describe("CONNECTOR", self._name("connector name"))
        if self._match_texts(("STREAMS", "TABLES")):
            target = self._prev.text.upper()
            return Describe(target, None, self._match_text_seq("EXTENDED"))  # type: ignore[arg-type]
        if self._at_word("EXTENDED") and self._is_identifier_token(self._next):
            self._advance()  # the older `DESCRIBE EXTENDED name` spelling
            return Describe("SOURCE", self._name("source name"), True)
        name = self._name("source name")
        return Describe("SOURCE", name, self._match_text_seq("EXTENDED"))

    def _explain(self) -> Explain:
        token = self._curr
        word = token.text.upper() if token and token.token_type == TokenType.VAR else ""
        if token and (token.token_type == TokenType.SELECT or word in ("CREATE", "INSERT")):
            return Explain(statement=self._statement())
        return Explain(query_id=self._name("query id"))

    def _query_id_or_all(self) -> str | None:
        return None if self._match_text_seq("ALL") else self._name("query id")

    def _terminate(self) -> Terminate:
        return Terminate(self._query_id_or_all())

    def _pause(self) -> PauseResume:
        return PauseResume("PAUSE", self._query_id_or_all())

    def _resume(self) -> PauseResume:
        return PauseResume("RESUME", self._query_id_or_all())

    def _set(self) -> SetProperty:
        name = self._string()
        self._expect(TokenType.EQ, "=")
        return SetProperty(name, self._string())

    def _unset(self) -> UnsetProperty:
        return UnsetProperty(self._string())

    def _define(self) -> Define:
        name = self._name("variable name")
        self._expect(TokenType.EQ, "=")
        return Define(name, self._string())

    def _undefine(self) -> Undefine:
        return Undefine(self._name("variable name"))

    def _print(self) -> Print:
        token = self._curr
        if self._match(TokenType.STRING) or self._match(TokenType.IDENTIFIER):
            topic = token.text
        else:
            # ksqlDB looks topics up case-sensitively, so an unquoted topic keeps its spelling.
            self._identifier("topic name")
            topic = token.text
        from_beginning = self._match_text_seq("FROM", "BEGINNING")
        interval = self._integer() if self._match_texts(("INTERVAL", "SAMPLE")) else None
        limit = self._integer() if self._match(TokenType.LIMIT) else None
        return Print(topic, from_beginning, interval, limit)

    def _run_script(self) -> RunScript:
        self._expect_words("SCRIPT")
        return RunScript(self._string())

    _STATEMENTS: dict[str, Callable[[KsqlParser], Statement]] = {
        "CREATE": lambda self: self._create(),
        "INSERT": lambda self: self._insert(),
        "DROP": lambda self: self._drop(),
        "ALTER": lambda self: self._alter(),
        "ASSERT": lambda self: self._assert(),
        "SHOW": lambda self: self._show(),
        "LIST": lambda self: self._show(),
        "DESCRIBE": lambda self: self._describe(),
        "EXPLAIN": lambda self: self._explain(),
        "TERMINATE": lambda self: self._terminate(),
        "PAUSE": lambda self: self._pause(),
        "RESUME": lambda self: self._resume(),
        "SET": lambda self: self._set(),
        "UNSET": lambda self: self._unset(),
        "DEFINE": lambda self: self._define(),
        "UNDEFINE": lambda self: self._undefine(),
        "PRINT": lambda self: self._print(),
        "RUN": lambda self: self._run_script(),
    }


def token_display_plain(token: Token) -> str:
    """``'WORD'`` as ksqlDB shows an unknown statement's first token."""
    return f"'{token.text}'" if token else "<EOF>"
