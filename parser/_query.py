"""SELECT parsing: projections, FROM/JOIN (with WITHIN windows), WINDOW, WHERE, GROUP BY,
PARTITION BY, HAVING, EMIT and LIMIT, producing :class:`parser.statements.Select`."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import TokenType

from parser._expr import KsqlExpressionParser
from parser.expressions import Dereference
from parser.statements import EmitKind, Join, JoinKind, JoinWindow, Relation, Select, SelectItem, WindowSpec

# Words that end a projection / relation, so they are never taken as an implicit alias.
_CLAUSE_WORDS = frozenset(
    {"FROM", "WINDOW", "WHERE", "GROUP", "PARTITION", "HAVING", "EMIT", "LIMIT", "JOIN", "INNER",
     "LEFT", "RIGHT", "FULL", "OUTER", "ON", "WITHIN"}
)
_WINDOW_KINDS = frozenset({"TUMBLING", "HOPPING", "SESSION"})


class KsqlQueryParser(KsqlExpressionParser):
    """Adds ksqlDB's query (SELECT) grammar."""

    def _select(self) -> Select:
        self._expect(TokenType.SELECT, "SELECT")
        items = tuple(self._parse_csv(self._select_item))
        if not self._match(TokenType.FROM):
            self._expected("{',', 'FROM'}")
        from_ = self._relation()
        joins = self._joins()
        window = self._window() if self._match_text_seq("WINDOW") else None
        where = self._expression() if self._match(TokenType.WHERE) else None
        group_by = self._grouping() if self._match_text_seq("GROUP", "BY") else ()
        partition_by = self._grouping() if self._match_text_seq("PARTITION", "BY") else ()
        having = self._expression() if self._match(TokenType.HAVING) else None
        emit: EmitKind | None = None
        if self._match_text_seq("EMIT"):
            if not self._match_texts(("CHANGES", "FINAL")):
                self._expected("{'CHANGES', 'FINAL'}")
            emit = "CHANGES" if self._prev.text.upper() == "CHANGES" else "FINAL"
        limit = self._limit() if self._match(TokenType.LIMIT) else None
        return Select(items, from_, joins, window, where, group_by, partition_by, having, emit, limit)

    def _grouping(self) -> tuple[exp.Expression, ...]:
        """GROUP BY / PARTITION BY: ``e1, e2, ...`` of value expressions (no top-level AND/OR or
        comparison, as in ksqlDB), or one parenthesised list ``(e1, e2, ...)``.

        ``()`` yields ``(exp.Tuple(),)`` so the engine can report ksqlDB's "requires at least one
        expression" error (ksqlDB accepts the syntax and rejects it semantically).
        """
        index = self._index
        if self._match(TokenType.L_PAREN):
            if self._match(TokenType.R_PAREN):
                return (exp.Tuple(),)
            items = self._parse_csv(self._value_expression)
            if len(items) > 1 and self._match(TokenType.R_PAREN) and self._curr.token_type != TokenType.COMMA:
                return tuple(items)
            self._retreat(index)
        return tuple(self._parse_csv(self._value_expression))

    def _limit(self) -> int:
        """``LIMIT n``; a negative n parses (the engine rejects it for pull queries)."""
        negative = self._match(TokenType.DASH)
        token = self._curr
        if token and token.token_type == TokenType.NUMBER and not token.text.isdigit():
            self._fail("Value must be integer for command: LIMIT", token)
        value = self._integer()
        return -value if negative else value

    def _select_item(self) -> SelectItem:
        if self._match(TokenType.STAR):
            return SelectItem(exp.Star())
        expr = self._expression()
        if self._curr.token_type == TokenType.ARROW and self._next.token_type == TokenType.STAR:
            self._advance(2)
            return SelectItem(Dereference(this=expr, expression=exp.Star()))
        return SelectItem(expr, self._alias())

    def _alias(self) -> str | None:
        """``[AS] name`` after a projection or relation (clause keywords never become aliases)."""
        if self._match(TokenType.ALIAS):
            return self._name()
        token = self._curr
        if self._is_identifier_token(token) and not (
            token.token_type == TokenType.VAR and token.text.upper() in _CLAUSE_WORDS
        ):
            return self._name()
        return None

    def _relation(self) -> Relation:
        name = self._name("source name")
        return Relation(name, self._alias())

    def _joins(self) -> tuple[Join, ...]:
        joins: list[Join] = []
        while True:
            kind = self._join_kind()
            if kind is None:
                return tuple(joins)
            right = self._relation()
            within = self._join_window() if self._match_text_seq("WITHIN") else None
            self._expect(TokenType.ON, "ON")
            joins.append(Join(kind, right, self._expression(), within))

    def _join_kind(self) -> JoinKind | None:
        kind: JoinKind = "INNER"
        if self._match(TokenType.INNER):
            pass
        elif self._match_set((TokenType.LEFT, TokenType.RIGHT, TokenType.FULL)):
            kind = "LEFT" if self._prev.token_type == TokenType.LEFT else (
                "RIGHT" if self._prev.token_type == TokenType.RIGHT else "FULL"
            )
            self._match(TokenType.OUTER)
        elif not self._curr or self._curr.token_type != TokenType.JOIN:
            return None
        self._expect(TokenType.JOIN, "JOIN")
        return kind

    def _join_window(self) -> JoinWindow:
        if self._match(TokenType.L_PAREN):
            before = self._duration_ms()
            self._expect(TokenType.COMMA, ",")
            after = self._duration_ms()
            self._expect(TokenType.R_PAREN, ")")
        else:
            before = after = self._duration_ms()
        grace = self._duration_ms() if self._match_text_seq("GRACE", "PERIOD") else None
        return JoinWindow(before, after, grace)

    def _window(self) -> WindowSpec:
        if self._is_identifier_token(self._curr) and self._next and self._next.text.upper() in _WINDOW_KINDS:
            self._advance()  # ksqlDB allows (and ignores) a window name: WINDOW w TUMBLING (...)
        if not self._match_texts(("TUMBLING", "HOPPING", "SESSION")):
            self._expected("{'TUMBLING', 'HOPPING', 'SESSION'}")
        kind = self._prev.text.upper()
        self._expect(TokenType.L_PAREN, "(")
        advance = None
        if kind == "SESSION":
            size = self._duration_ms()
        else:
            self._expect_words("SIZE")
            size = self._duration_ms()
            if kind == "HOPPING":
                self._expect(TokenType.COMMA, ",")
                self._expect_words("ADVANCE", "BY")
                advance = self._duration_ms()
        retention = grace = None
        while self._match(TokenType.COMMA):
            if self._match_text_seq("RETENTION"):
                retention = self._duration_ms()
            elif self._match_text_seq("GRACE", "PERIOD"):
                grace = self._duration_ms()
            else:
                self._expected("{'RETENTION', 'GRACE'}")
        self._expect(TokenType.R_PAREN, ")")
        return WindowSpec(kind, size, advance, retention, grace)  # type: ignore[arg-type]
