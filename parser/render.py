"""Canonical ksqlDB text for statements: ``parse(render(s)) == [s]`` for every statement.

Expressions render through the ``ksql`` sqlglot dialect; names are bare when they re-parse to the
same normalised name and backtick-quoted otherwise; durations use the largest exact unit.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from parser.generator import KsqlGenerator, quote_name
from parser.statements import ColumnDef, Join, JoinWindow, Relation, Select, SelectItem, WindowSpec

_UNITS = (("DAYS", 86_400_000), ("HOURS", 3_600_000), ("MINUTES", 60_000), ("SECONDS", 1_000))


def expression_sql(expression: exp.Expression) -> str:
    """Render a parser-produced expression as ksqlDB text."""
    return KsqlGenerator().generate(expression)


def string_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def duration(ms: int) -> str:
    """Milliseconds as ``<n> <UNIT>`` using the largest unit that divides exactly."""
    for unit, size in _UNITS:
        if ms and ms % size == 0:
            return f"{ms // size} {unit}"
    return f"{ms} MILLISECONDS"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return string_literal(value)
    return repr(value)


def properties_sql(props: dict[str, Any]) -> str:
    """``WITH (K=v, ...)``, or "" when there are none."""
    if not props:
        return ""
    items = ", ".join(
        f"{key if quote_name(key) == key else string_literal(key)}={_value(v)}" for key, v in props.items()
    )
    return f" WITH ({items})"


def column_sql(column: ColumnDef) -> str:
    text = f"{quote_name(column.name)} {column.type.sql()}"
    if column.primary_key:
        text += " PRIMARY KEY"
    elif column.key:
        text += " KEY"
    elif column.header_key is not None:
        text += f" HEADER({string_literal(column.header_key)})"
    elif column.headers:
        text += " HEADERS"
    return text


def _columns(columns: tuple[ColumnDef, ...]) -> str:
    return f" ({', '.join(column_sql(c) for c in columns)})" if columns else ""


def _relation(relation: Relation) -> str:
    alias = f" AS {quote_name(relation.alias)}" if relation.alias else ""
    return quote_name(relation.name) + alias


def _select_item(item: SelectItem) -> str:
    alias = f" AS {quote_name(item.alias)}" if item.alias else ""
    return expression_sql(item.expr) + alias


def _within(window: JoinWindow) -> str:
    if window.before_ms == window.after_ms:
        text = f" WITHIN {duration(window.before_ms)}"
    else:
        text = f" WITHIN ({duration(window.before_ms)}, {duration(window.after_ms)})"
    if window.grace_ms is not None:
        text += f" GRACE PERIOD {duration(window.grace_ms)}"
    return text


def _join(join: Join) -> str:
    kind = {"INNER": "INNER JOIN", "LEFT": "LEFT JOIN", "RIGHT": "RIGHT JOIN", "FULL": "FULL OUTER JOIN"}
    within = _within(join.within) if join.within else ""
    return f" {kind[join.kind]} {_relation(join.right)}{within} ON {expression_sql(join.on)}"


def window_sql(window: WindowSpec) -> str:
    """``TUMBLING (SIZE ...)`` / ``HOPPING (SIZE ..., ADVANCE BY ...)`` / ``SESSION (...)``."""
    parts = [duration(window.size_ms) if window.kind == "SESSION" else f"SIZE {duration(window.size_ms)}"]
    if window.advance_ms is not None:
        parts.append(f"ADVANCE BY {duration(window.advance_ms)}")
    if window.retention_ms is not None:
        parts.append(f"RETENTION {duration(window.retention_ms)}")
    if window.grace_ms is not None:
        parts.append(f"GRACE PERIOD {duration(window.grace_ms)}")
    return f"{window.kind} ({', '.join(parts)})"


def select_sql(select: Select) -> str:
    """Render a SELECT (without a trailing ``;``)."""
    text = f"SELECT {', '.join(_select_item(i) for i in select.items)} FROM {_relation(select.from_)}"
    text += "".join(_join(j) for j in select.joins)
    if select.window:
        text += f" WINDOW {window_sql(select.window)}"
    if select.where is not None:
        text += f" WHERE {expression_sql(select.where)}"
    if select.group_by:
        text += f" GROUP BY {', '.join(expression_sql(e) for e in select.group_by)}"
    if select.partition_by:
        text += f" PARTITION BY {', '.join(expression_sql(e) for e in select.partition_by)}"
    if select.having is not None:
        text += f" HAVING {expression_sql(select.having)}"
    if select.emit:
        text += f" EMIT {select.emit}"
    if select.limit is not None:
        text += f" LIMIT {select.limit}"
    return text


def _create_prefix(or_replace: bool, kind: str, if_not_exists: bool, source: bool = False) -> str:
    return (
        "CREATE " + ("OR REPLACE " if or_replace else "") + ("SOURCE " if source else "") + kind
        + (" IF NOT EXISTS" if if_not_exists else "")
    )


def _values(values: tuple[exp.Expression, ...]) -> str:
    return f"({', '.join(expression_sql(v) for v in values)})"


def _names(names: tuple[str, ...]) -> str:
    return f" ({', '.join(quote_name(n) for n in names)})" if names else ""


def _timeout(timeout_ms: int | None) -> str:
    return f" TIMEOUT {duration(timeout_ms)}" if timeout_ms is not None else ""


def _or_all(query_id: str | None) -> str:
    return quote_name(query_id) if query_id is not None else "ALL"
