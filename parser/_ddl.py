"""DDL/DML statement parsing: CREATE (STREAM/TABLE/AS SELECT/TYPE/CONNECTOR), INSERT, DROP,
ALTER and the ASSERT family."""

from __future__ import annotations

from typing import Any, Literal

from sqlglot import exp
from sqlglot.tokens import TokenType

from parser._base import UNIT_MS
from parser._query import KsqlQueryParser
from parser.statements import (
    AlterSource,
    AssertSchema,
    AssertStream,
    AssertTopic,
    AssertValues,
    ColumnDef,
    ConnectorStatement,
    CreateAsSelect,
    CreateSource,
    CreateType,
    Drop,
    DropType,
    InsertInto,
    InsertValues,
    SourceKind,
    Statement,
)


class KsqlDdlParser(KsqlQueryParser):
    """Adds CREATE / INSERT / DROP / ALTER / ASSERT statements."""

    # --- CREATE ---------------------------------------------------------------------------------

    def _create(self) -> Statement:
        or_replace = self._match_text_seq("OR", "REPLACE")
        if self._match_text_seq("TYPE"):
            if_not_exists = self._match_text_seq("IF", "NOT", "EXISTS")
            name = self._name()
            self._expect(TokenType.ALIAS, "AS")
            return CreateType(name, self._sql_type(), if_not_exists)
        if self._at_word("SOURCE", "SINK") and self._next and self._next.text.upper() == "CONNECTOR":
            self._advance()
            return self._create_connector("SOURCE" if self._prev.text.upper() == "SOURCE" else "SINK")
        source = self._match_text_seq("SOURCE")
        kind = self._source_kind()
        if_not_exists = self._match_text_seq("IF", "NOT", "EXISTS")
        name = self._name("source name")
        columns = self._table_elements(kind) if self._curr.token_type == TokenType.L_PAREN else ()
        with_index = self._index
        props = self._properties() if self._match_text_seq("WITH") else {}
        if self._match(TokenType.ALIAS):
            if columns or source:
                self._retreat(self._index - 1)
                self._expected("{';', <EOF>}")
            select = self._select()
            return CreateAsSelect(kind, name, select, props, or_replace, if_not_exists)
        self._check_window_properties(props, with_index)
        return CreateSource(kind, name, columns, props, or_replace, if_not_exists, source)

    def _source_kind(self) -> SourceKind:
        if not self._match_texts(("STREAM", "TABLE")):
            self._expected("{'STREAM', 'TABLE'}")
        return "STREAM" if self._prev.text.upper() == "STREAM" else "TABLE"

    def _table_elements(self, kind: SourceKind) -> tuple[ColumnDef, ...]:
        self._expect(TokenType.L_PAREN, "(")
        columns = self._parse_csv(lambda: self._column_def(kind))
        if not self._match(TokenType.R_PAREN):
            self._expected("{',', ')'}")
        return tuple(columns)

    def _column_def(self, kind: SourceKind | None) -> ColumnDef:
        name_token = self._curr
        name = self._name("column name")
        col_type = self._sql_type()
        key = primary = headers = False
        header_key = None
        if self._match_text_seq("PRIMARY", "KEY"):
            primary = True
        elif self._match_text_seq("KEY"):
            key = True
        elif self._match_text_seq("HEADERS"):
            headers = True
        elif self._match_text_seq("HEADER"):
            headers = True
            self._expect(TokenType.L_PAREN, "(")
            header_key = self._string()
            self._expect(TokenType.R_PAREN, ")")
        if kind == "TABLE" and key:
            self._fail(f"Column `{name}` is a 'KEY' column: please use 'PRIMARY KEY' for tables.", name_token)
        if kind == "STREAM" and primary:
            self._fail(f"Column `{name}` is a 'PRIMARY KEY' column: please use 'KEY' for streams.", name_token)
        return ColumnDef(name, col_type, key, primary, headers, header_key)

    def _check_window_properties(self, props: dict[str, Any], with_index: int) -> None:
        """ksqlDB validates WINDOW_SIZE of windowed sources while building the statement."""
        size = props.get("WINDOW_SIZE")
        if size is None:
            return
        token = self._tokens[with_index] if with_index < len(self._tokens) else None
        if str(props.get("WINDOW_TYPE", "")).upper() == "SESSION":
            self._fail("'WINDOW_SIZE' should not be set for SESSION windows.", token)
        parts = str(size).split()
        if len(parts) != 2 or not parts[0].isdigit():
            self._fail(f"Configuration WINDOW_SIZE is invalid: Invalid duration: '{size}'", token)
        if parts[1].upper() not in UNIT_MS:
            self._fail(
                f"Configuration WINDOW_SIZE is invalid: Invalid duration: '{size}'. "
                f"Unknown time unit: '{parts[1].upper()}'",
                token,
            )

    def _create_connector(self, connector_type: Literal["SOURCE", "SINK"]) -> ConnectorStatement:
        self._expect_words("CONNECTOR")
        if_not_exists = self._match_text_seq("IF", "NOT", "EXISTS")
        name = self._name("connector name")
        self._expect_words("WITH")
        props = self._properties()
        return ConnectorStatement("CREATE", name, connector_type, props, if_not_exists=if_not_exists)

    # --- INSERT ---------------------------------------------------------------------------------

    def _insert(self) -> Statement:
        self._expect_words("INTO")
        target = self._name("source name")
        columns: tuple[str, ...] = ()
        if self._curr.token_type == TokenType.L_PAREN:
            columns = self._column_names()
        if columns or self._at_word("VALUES"):
            return InsertValues(target, columns, self._values())
        props = self._properties() if self._match_text_seq("WITH") else {}
        return InsertInto(target, self._select(), props)

    def _column_names(self) -> tuple[str, ...]:
        self._expect(TokenType.L_PAREN, "(")
        names = self._parse_csv(self._name)
        self._expect(TokenType.R_PAREN, ")")
        return tuple(names)

    def _values(self, keyword: str = "VALUES") -> tuple[exp.Expression, ...]:
        self._expect_words(keyword)
        self._expect(TokenType.L_PAREN, "(")
        values = [] if self._curr.token_type == TokenType.R_PAREN else self._parse_csv(self._expression)
        self._expect(TokenType.R_PAREN, ")")
        return tuple(values)

    # --- DROP / ALTER ---------------------------------------------------------------------------

    def _drop(self) -> Statement:
        if self._match_text_seq("TYPE"):
            if_exists = self._match_text_seq("IF", "EXISTS")
            return DropType(self._name(), if_exists)
        if self._match_text_seq("CONNECTOR"):
            if_exists = self._match_text_seq("IF", "EXISTS")
            return ConnectorStatement("DROP", self._name("connector name"), if_exists=if_exists)
        kind = self._source_kind()
        if_exists = self._match_text_seq("IF", "EXISTS")
        name = self._name("source name")
        delete_topic = self._match_text_seq("DELETE", "TOPIC")
        return Drop(kind, name, if_exists, delete_topic)

    def _alter(self) -> AlterSource:
        kind = self._source_kind()
        name = self._name("source name")
        columns: list[ColumnDef] = []
        while True:
            self._expect_words("ADD")
            self._match_text_seq("COLUMN")
            columns.append(self._column_def(None))
            if not self._match(TokenType.COMMA):
                return AlterSource(kind, name, tuple(columns))

    # --- ASSERT ---------------------------------------------------------------------------------

    def _assert(self) -> Statement:
        if self._match(TokenType.NULL):
            self._expect_words("VALUES")
            return self._assert_values(null_values=True)
        if self._match_text_seq("VALUES"):
            return self._assert_values(null_values=False)
        if self._at_word("STREAM", "TABLE"):
            kind = self._source_kind()
            name = self._name("source name")
            columns = self._table_elements(kind)
            props = self._properties() if self._match_text_seq("WITH") else {}
            return AssertStream(kind, name, columns, props)
        exists = not self._match_text_seq("NOT", "EXISTS")
        if self._match_text_seq("TOPIC"):
            topic = self._string() if self._curr.token_type == TokenType.STRING else self._name("topic")
            props = self._properties() if self._match_text_seq("WITH") else {}
            return AssertTopic(topic, exists, props, self._timeout())
        if self._match_text_seq("SCHEMA"):
            subject = None
            if self._match_text_seq("SUBJECT"):
                subject = self._string() if self._curr.token_type == TokenType.STRING else self._name()
            schema_id = self._integer() if self._match_text_seq("ID") else None
            if subject is None and schema_id is None:
                self._expected("{'SUBJECT', 'ID'}")
            return AssertSchema(subject, schema_id, exists, self._timeout())
        self._expected("{'TOPIC', 'SCHEMA', 'NOT'}")

    def _assert_values(self, null_values: bool) -> AssertValues:
        target = self._name("source name")
        columns: tuple[str, ...] = ()
        if self._curr.token_type == TokenType.L_PAREN:
            columns = self._column_names()
        values = self._values("KEY" if null_values else "VALUES")
        return AssertValues(target, columns, values, null_values)

    def _timeout(self) -> int | None:
        return self._duration_ms() if self._match_text_seq("TIMEOUT") else None
