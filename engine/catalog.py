"""The catalog: streams, tables, custom types and persistent queries.

A source's columns are split into namespaces as in ksqlDB: KEY columns (serialised in the
record key), VALUE columns (in the record value) and HEADERS columns. Pseudo columns (ROWTIME,
ROWPARTITION, ROWOFFSET, WINDOWSTART, WINDOWEND) are not stored; ``pseudo_columns`` lists them.
The catalog persists as the log of the statements that built it (like ksqlDB's command topic);
see ``engine.runtime.commands``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from engine import types as t
from engine.errors import KsqlStatementError
from parser.statements import SqlType

Namespace = Literal["KEY", "VALUE", "HEADERS"]

ROWTIME = "ROWTIME"
ROWPARTITION = "ROWPARTITION"
ROWOFFSET = "ROWOFFSET"
WINDOWSTART = "WINDOWSTART"
WINDOWEND = "WINDOWEND"
PSEUDO_COLUMNS: dict[str, SqlType] = {
    ROWTIME: t.BIGINT,
    ROWPARTITION: t.INTEGER,
    ROWOFFSET: t.BIGINT,
}
WINDOW_BOUNDS: dict[str, SqlType] = {WINDOWSTART: t.BIGINT, WINDOWEND: t.BIGINT}
RESERVED_NAMES = frozenset({*PSEUDO_COLUMNS, *WINDOW_BOUNDS})


@dataclass(frozen=True, slots=True)
class Column:
    """A stored column of a source."""

    name: str
    type: SqlType
    namespace: Namespace = "VALUE"
    header_key: str | None = None  # HEADER('k'); None with HEADERS means all headers


@dataclass(frozen=True, slots=True)
class WindowInfo:
    """How a windowed source's keys are windowed (ksqlDB's WINDOW_TYPE / WINDOW_SIZE)."""

    kind: Literal["TUMBLING", "HOPPING", "SESSION"]
    size_ms: int | None = None


@dataclass(slots=True)
class Source:
    """A stream or table registered in the catalog."""

    name: str
    kind: Literal["STREAM", "TABLE"]
    columns: list[Column]
    topic: str
    key_format: str
    value_format: str
    key_properties: dict[str, Any] = field(default_factory=dict)
    value_properties: dict[str, Any] = field(default_factory=dict)
    timestamp_column: str | None = None
    timestamp_format: str | None = None
    window: WindowInfo | None = None
    read_only: bool = False  # CREATE SOURCE STREAM|TABLE
    sql: str = ""
    partitions: int = 1
    is_sink_of: str | None = None  # the query id writing it (CSAS/CTAS)

    @property
    def key_columns(self) -> list[Column]:
        """Columns serialised in the record key."""
        return [c for c in self.columns if c.namespace == "KEY"]

    @property
    def value_columns(self) -> list[Column]:
        """Columns serialised in the record value."""
        return [c for c in self.columns if c.namespace == "VALUE"]

    @property
    def header_columns(self) -> list[Column]:
        """Columns populated from record headers."""
        return [c for c in self.columns if c.namespace == "HEADERS"]

    def column(self, name: str) -> Column | None:
        """The stored column called ``name``, if any."""
        for col in self.columns:
            if col.name == name:
                return col
        return None

    def schema_text(self) -> str:
        """ksqlDB's schema rendering, e.g. ``ID INTEGER KEY, NAME STRING``."""
        parts = []
        for col in self.columns:
            suffix = ""
            if col.namespace == "KEY":
                suffix = " PRIMARY KEY" if self.kind == "TABLE" else " KEY"
            elif col.namespace == "HEADERS":
                suffix = f" HEADER('{col.header_key}')" if col.header_key else " HEADERS"
            parts.append(f"`{col.name}` {col.type.sql()}{suffix}")
        return ", ".join(parts)


@dataclass(slots=True)
class QueryInfo:
    """A persistent query as listed by SHOW QUERIES."""

    id: str
    sql: str
    sink: str | None
    sources: list[str]
    state: Literal["RUNNING", "PAUSED", "ERROR"] = "RUNNING"
    plan: str = ""  # EXPLAIN text of the running query


def kind_word(kind: str) -> str:
    """``stream`` or ``table``, as ksqlDB's messages spell a source kind."""
    return "stream" if kind == "STREAM" else "table"


class Catalog:
    """Sources, custom types and persistent queries of one engine."""

    def __init__(self) -> None:
        self.sources: dict[str, Source] = {}
        self.types: dict[str, SqlType] = {}
        self.queries: dict[str, QueryInfo] = {}
        self._query_seq = 0

    def source(self, name: str) -> Source | None:
        """The source called ``name``, or None."""
        return self.sources.get(name)

    def require(self, name: str) -> Source:
        """The source called ``name``; ksqlDB's error when it does not exist."""
        src = self.sources.get(name)
        if src is None:
            raise KsqlStatementError(f"{name} does not exist.")
        return src

    def next_query_id(self, prefix: str, sink: str) -> str:
        """A ksqlDB-style query id: CSAS_OUTPUT_1, CTAS_T_2, INSERTQUERY_3 ..."""
        self._query_seq += 1
        if prefix == "INSERTQUERY":
            return f"INSERTQUERY_{self._query_seq}"
        return f"{prefix}_{sink}_{self._query_seq}"

    def resolve_type(self, sql_type: SqlType) -> SqlType:
        """Replace custom type names (CREATE TYPE) by their definitions, recursively."""
        if sql_type.base in self.types:
            return self.resolve_type(self.types[sql_type.base])
        if sql_type.items:
            return SqlType(sql_type.base, sql_type.params, tuple(self.resolve_type(i) for i in sql_type.items))
        if sql_type.fields:
            fields = tuple((n, self.resolve_type(ft)) for n, ft in sql_type.fields)
            return SqlType(sql_type.base, sql_type.params, (), fields)
        return sql_type
