"""What `Engine.execute` returns: one result per statement, shaped after ksqlDB's REST entities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parser.statements import SqlType


@dataclass(slots=True)
class StatementResult:
    """The outcome of a statement that is not a query.

    ``entity`` is the ksqlDB REST entity type (currentStatus, streams, tables, queries,
    sourceDescription, properties, functionDescription ...) and ``data`` its content.
    """

    statement_text: str
    entity: str
    message: str = ""
    data: Any = None
    query_id: str | None = None


@dataclass(slots=True)
class RowsResult:
    """Rows of a pull query, a finished push query or ad hoc SQL."""

    statement_text: str
    columns: list[tuple[str, SqlType]]
    rows: list[list[Any]] = field(default_factory=list)
    query_id: str | None = None
    key_names: set[str] = field(default_factory=set)  # columns shown as KEY (pull queries on tables)

    def schema_text(self) -> str:
        """ksqlDB's header schema, e.g. ```ID` BIGINT KEY, `NAME` STRING``."""
        return ", ".join(f"`{n}` {t.sql()}{' KEY' if n in self.key_names else ''}" for n, t in self.columns)
