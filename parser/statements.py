"""Typed statements: what `parser.parse` returns and the engine consumes.

Every statement is a frozen, slotted dataclass. Expressions inside statements stay sqlglot
expression trees (``sqlglot.exp.Expression``) so the engine can type-check and transpile them.
Identifiers are already normalised: unquoted names are upper-cased, backtick-quoted names keep
their case. Durations are milliseconds. ``WITH (...)`` properties are a dict with upper-cased
keys and Python values (str, int, float, bool).

Each statement renders back to canonical SQL with ``.sql()`` (used by DESCRIBE EXTENDED,
EXPLAIN and the catalog); parse(render(s)) == s for every statement family.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlglot import exp

SourceKind = Literal["STREAM", "TABLE"]
JoinKind = Literal["INNER", "LEFT", "RIGHT", "FULL"]
WindowKind = Literal["TUMBLING", "HOPPING", "SESSION"]
EmitKind = Literal["CHANGES", "FINAL"]


@dataclass(frozen=True, slots=True)
class SqlType:
    """A ksqlDB SQL type.

    ``base`` is one of BOOLEAN, INTEGER, BIGINT, DOUBLE, DECIMAL, STRING, BYTES, DATE, TIME,
    TIMESTAMP, ARRAY, MAP, STRUCT; any other upper-cased name is a custom type (CREATE TYPE)
    that the engine resolves. ``INT`` is normalised to INTEGER and VARCHAR to STRING.
    """

    base: str
    params: tuple[int, ...] = ()  # DECIMAL(precision, scale)
    items: tuple[SqlType, ...] = ()  # ARRAY<item>; MAP<key, value>
    fields: tuple[tuple[str, SqlType], ...] = ()  # STRUCT<name type, ...> (names keep case)

    def sql(self) -> str:
        """Render as ksqlDB type text, e.g. ``STRUCT<`A` INTEGER, `b` ARRAY<STRING>>``."""
        if self.base == "DECIMAL" and self.params:
            return f"DECIMAL({', '.join(str(p) for p in self.params)})"
        if self.base == "ARRAY":
            return f"ARRAY<{self.items[0].sql()}>"
        if self.base == "MAP":
            return f"MAP<{self.items[0].sql()}, {self.items[1].sql()}>"
        if self.base == "STRUCT":
            inner = ", ".join(f"`{name}` {t.sql()}" for name, t in self.fields)
            return f"STRUCT<{inner}>"
        return self.base


@dataclass(frozen=True, slots=True)
class ColumnDef:
    """A column in CREATE STREAM/TABLE or ALTER ... ADD COLUMN."""

    name: str
    type: SqlType
    key: bool = False  # KEY (streams)
    primary_key: bool = False  # PRIMARY KEY (tables)
    headers: bool = False  # HEADERS or HEADER('k')
    header_key: str | None = None  # the 'k' of HEADER('k')


@dataclass(frozen=True, slots=True)
class Relation:
    """A source named in FROM or JOIN, with its optional alias."""

    name: str
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class JoinWindow:
    """``WITHIN n unit`` (before == after) or ``WITHIN (before, after)``, with optional grace."""

    before_ms: int
    after_ms: int
    grace_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Join:
    """One JOIN clause; ``kind`` FULL means FULL OUTER."""

    kind: JoinKind
    right: Relation
    on: exp.Expression
    within: JoinWindow | None = None


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """``WINDOW TUMBLING|HOPPING|SESSION (...)``; ``size_ms`` is the gap for SESSION."""

    kind: WindowKind
    size_ms: int
    advance_ms: int | None = None
    retention_ms: int | None = None
    grace_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SelectItem:
    """One projection. ``expr`` is ``exp.Star`` for ``*``, ``exp.Column(this=Star, table=t)`` for
    ``t.*``; ``alias`` is the AS name (normalised), or None when absent."""

    expr: exp.Expression
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class Select:
    """A ksqlDB SELECT: the body of push/pull queries, CSAS/CTAS and INSERT INTO ... SELECT."""

    items: tuple[SelectItem, ...]
    from_: Relation
    joins: tuple[Join, ...] = ()
    window: WindowSpec | None = None
    where: exp.Expression | None = None
    group_by: tuple[exp.Expression, ...] = ()
    partition_by: tuple[exp.Expression, ...] = ()
    having: exp.Expression | None = None
    emit: EmitKind | None = None
    limit: int | None = None

    def sql(self) -> str:
        """Canonical ksqlDB text of this SELECT."""
        from parser.render import select_sql  # rendering imports this module

        return select_sql(self)


class Statement:
    """Base of all statements (``parser.parse_with_source`` also gives each one's text)."""

    __slots__ = ()

    def sql(self) -> str:
        """Canonical ksqlDB text of this statement, without a trailing ``;``."""
        from parser._render_statements import render_statement  # rendering imports this module

        return render_statement(self)


@dataclass(frozen=True, slots=True)
class CreateSource(Statement):
    """CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] name (cols) WITH (...)."""

    kind: SourceKind
    name: str
    columns: tuple[ColumnDef, ...]
    properties: dict[str, Any] = field(default_factory=dict)
    or_replace: bool = False
    if_not_exists: bool = False
    source: bool = False  # CREATE SOURCE ... (read-only, materialised for pull queries)


@dataclass(frozen=True, slots=True)
class CreateAsSelect(Statement):
    """CREATE [OR REPLACE] STREAM|TABLE [IF NOT EXISTS] name [WITH (...)] AS SELECT ..."""

    kind: SourceKind
    name: str
    select: Select
    properties: dict[str, Any] = field(default_factory=dict)
    or_replace: bool = False
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class InsertInto(Statement):
    """INSERT INTO name [WITH (...)] SELECT ..."""

    target: str
    select: Select
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InsertValues(Statement):
    """INSERT INTO name [(cols)] VALUES (...); ``columns`` empty when not given."""

    target: str
    columns: tuple[str, ...]
    values: tuple[exp.Expression, ...]


@dataclass(frozen=True, slots=True)
class Query(Statement):
    """A push (EMIT CHANGES/FINAL) or pull (no EMIT) query."""

    select: Select


ShowWhat = Literal[
    "STREAMS", "TABLES", "QUERIES", "TOPICS", "FUNCTIONS", "TYPES", "PROPERTIES", "VARIABLES",
    "CONNECTORS", "CONNECTOR PLUGINS",
]


@dataclass(frozen=True, slots=True)
class Show(Statement):
    """SHOW|LIST <what> [EXTENDED]; ``all_topics`` for SHOW ALL TOPICS."""

    what: ShowWhat
    extended: bool = False
    all_topics: bool = False
    connector_type: Literal["SOURCE", "SINK"] | None = None  # SHOW SOURCE|SINK CONNECTORS


@dataclass(frozen=True, slots=True)
class Describe(Statement):
    """DESCRIBE name [EXTENDED], DESCRIBE STREAMS|TABLES [EXTENDED], DESCRIBE FUNCTION name,
    DESCRIBE CONNECTOR name. ``target`` is SOURCE, STREAMS, TABLES, FUNCTION or CONNECTOR."""

    target: Literal["SOURCE", "STREAMS", "TABLES", "FUNCTION", "CONNECTOR"]
    name: str | None = None
    extended: bool = False


@dataclass(frozen=True, slots=True)
class Explain(Statement):
    """EXPLAIN <statement> or EXPLAIN <query id>."""

    statement: Statement | None = None
    query_id: str | None = None


@dataclass(frozen=True, slots=True)
class Terminate(Statement):
    """TERMINATE id | TERMINATE ALL (query_id None)."""

    query_id: str | None


@dataclass(frozen=True, slots=True)
class PauseResume(Statement):
    """PAUSE id|ALL or RESUME id|ALL (query_id None means ALL)."""

    action: Literal["PAUSE", "RESUME"]
    query_id: str | None


@dataclass(frozen=True, slots=True)
class Drop(Statement):
    """DROP STREAM|TABLE [IF EXISTS] name [DELETE TOPIC]."""

    kind: SourceKind
    name: str
    if_exists: bool = False
    delete_topic: bool = False


@dataclass(frozen=True, slots=True)
class CreateType(Statement):
    """CREATE TYPE [IF NOT EXISTS] name AS type."""

    name: str
    type: SqlType
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class DropType(Statement):
    """DROP TYPE [IF EXISTS] name."""

    name: str
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class AlterSource(Statement):
    """ALTER STREAM|TABLE name ADD [COLUMN] c type [, ADD [COLUMN] ...]."""

    kind: SourceKind
    name: str
    add_columns: tuple[ColumnDef, ...]


@dataclass(frozen=True, slots=True)
class SetProperty(Statement):
    """SET 'name' = 'value'."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class UnsetProperty(Statement):
    """UNSET 'name'."""

    name: str


@dataclass(frozen=True, slots=True)
class Define(Statement):
    """DEFINE name = 'value' (variables substituted as ${name} in later statements)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Undefine(Statement):
    """UNDEFINE name."""

    name: str


@dataclass(frozen=True, slots=True)
class Print(Statement):
    """PRINT topic [FROM BEGINNING] [INTERVAL|SAMPLE n] [LIMIT n]; topic keeps its case."""

    topic: str
    from_beginning: bool = False
    interval: int | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class RunScript(Statement):
    """RUN SCRIPT 'path'."""

    path: str


@dataclass(frozen=True, slots=True)
class AssertTopic(Statement):
    """ASSERT [NOT EXISTS] TOPIC name [WITH (...)] [TIMEOUT n unit]."""

    topic: str
    exists: bool = True
    properties: dict[str, Any] = field(default_factory=dict)
    timeout_ms: int | None = None


@dataclass(frozen=True, slots=True)
class AssertSchema(Statement):
    """ASSERT [NOT EXISTS] SCHEMA [SUBJECT name] [ID n] [TIMEOUT n unit]."""

    subject: str | None = None
    id: int | None = None
    exists: bool = True
    timeout_ms: int | None = None


@dataclass(frozen=True, slots=True)
class AssertValues(Statement):
    """ASSERT VALUES name [(cols)] VALUES (...) and ASSERT NULL VALUES (test-runner statements)."""

    target: str
    columns: tuple[str, ...]
    values: tuple[exp.Expression, ...]
    null_values: bool = False


@dataclass(frozen=True, slots=True)
class AssertStream(Statement):
    """ASSERT STREAM|TABLE name (cols) WITH (...) (test-runner statements)."""

    kind: SourceKind
    name: str
    columns: tuple[ColumnDef, ...]
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConnectorStatement(Statement):
    """CREATE SOURCE|SINK CONNECTOR, DROP CONNECTOR, DESCRIBE CONNECTOR: parsed, refused by the
    engine with a clear message. ``action`` is CREATE or DROP."""

    action: Literal["CREATE", "DROP"]
    name: str
    connector_type: Literal["SOURCE", "SINK"] | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    if_not_exists: bool = False
    if_exists: bool = False
