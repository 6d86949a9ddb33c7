"""Per-statement renderers (split from :mod:`parser.render` to keep modules small)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parser.generator import quote_name
from parser.render import (
    _columns,
    _create_prefix,
    _names,
    _or_all,
    _timeout,
    _values,
    column_sql,
    properties_sql,
    select_sql,
    string_literal,
)
from parser.statements import (
    AlterSource,
    AssertSchema,
    AssertStream,
    AssertTopic,
    AssertValues,
    ConnectorStatement,
    CreateAsSelect,
    CreateSource,
    CreateType,
    Define,
    Describe,
    Drop,
    DropType,
    Explain,
    InsertInto,
    InsertValues,
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


def _show(s: Show) -> str:
    prefix = ("ALL " if s.all_topics else "") + (f"{s.connector_type} " if s.connector_type else "")
    return f"SHOW {prefix}{s.what}" + (" EXTENDED" if s.extended else "")


def _describe(s: Describe) -> str:
    if s.target in ("STREAMS", "TABLES"):
        return f"DESCRIBE {s.target}" + (" EXTENDED" if s.extended else "")
    if s.target in ("FUNCTION", "CONNECTOR"):
        return f"DESCRIBE {s.target} {quote_name(s.name or '')}"
    name = s.name or ""
    # A source literally named like a DESCRIBE sub-command must be quoted to stay a name.
    rendered = f"`{name}`" if name in ("STREAMS", "TABLES", "FUNCTION", "CONNECTOR") else quote_name(name)
    return f"DESCRIBE {rendered}" + (" EXTENDED" if s.extended else "")


def _print(s: Print) -> str:
    text = f"PRINT {string_literal(s.topic)}" + (" FROM BEGINNING" if s.from_beginning else "")
    text += f" INTERVAL {s.interval}" if s.interval is not None else ""
    return text + (f" LIMIT {s.limit}" if s.limit is not None else "")


def _assert_values(s: AssertValues) -> str:
    head = "ASSERT NULL VALUES" if s.null_values else "ASSERT VALUES"
    keyword = "KEY" if s.null_values else "VALUES"
    return f"{head} {quote_name(s.target)}{_names(s.columns)} {keyword} {_values(s.values)}"


def _assert_schema(s: AssertSchema) -> str:
    text = "ASSERT " + ("" if s.exists else "NOT EXISTS ") + "SCHEMA"
    text += f" SUBJECT {string_literal(s.subject)}" if s.subject is not None else ""
    text += f" ID {s.id}" if s.id is not None else ""
    return text + _timeout(s.timeout_ms)


def _connector(s: ConnectorStatement) -> str:
    if s.action == "DROP":
        return "DROP CONNECTOR " + ("IF EXISTS " if s.if_exists else "") + quote_name(s.name)
    exists = "IF NOT EXISTS " if s.if_not_exists else ""
    return f"CREATE {s.connector_type or 'SOURCE'} CONNECTOR {exists}{quote_name(s.name)}" + properties_sql(s.properties)


RENDERERS: dict[type, Callable[[Any], str]] = {
    CreateSource: lambda s: _create_prefix(s.or_replace, s.kind, s.if_not_exists, s.source)
    + f" {quote_name(s.name)}{_columns(s.columns)}{properties_sql(s.properties)}",
    CreateAsSelect: lambda s: _create_prefix(s.or_replace, s.kind, s.if_not_exists)
    + f" {quote_name(s.name)}{properties_sql(s.properties)} AS {select_sql(s.select)}",
    InsertInto: lambda s: f"INSERT INTO {quote_name(s.target)}{properties_sql(s.properties)} {select_sql(s.select)}",
    InsertValues: lambda s: f"INSERT INTO {quote_name(s.target)}{_names(s.columns)} VALUES {_values(s.values)}",
    Query: lambda s: select_sql(s.select),
    Show: _show,
    Describe: _describe,
    Explain: lambda s: "EXPLAIN " + (render_statement(s.statement) if s.statement else quote_name(s.query_id or "")),
    Terminate: lambda s: f"TERMINATE {_or_all(s.query_id)}",
    PauseResume: lambda s: f"{s.action} {_or_all(s.query_id)}",
    Drop: lambda s: f"DROP {s.kind} " + ("IF EXISTS " if s.if_exists else "") + quote_name(s.name)
    + (" DELETE TOPIC" if s.delete_topic else ""),
    CreateType: lambda s: "CREATE TYPE " + ("IF NOT EXISTS " if s.if_not_exists else "")
    + f"{quote_name(s.name)} AS {s.type.sql()}",
    DropType: lambda s: "DROP TYPE " + ("IF EXISTS " if s.if_exists else "") + quote_name(s.name),
    AlterSource: lambda s: f"ALTER {s.kind} {quote_name(s.name)} "
    + ", ".join(f"ADD COLUMN {column_sql(c)}" for c in s.add_columns),
    SetProperty: lambda s: f"SET {string_literal(s.name)} = {string_literal(s.value)}",
    UnsetProperty: lambda s: f"UNSET {string_literal(s.name)}",
    Define: lambda s: f"DEFINE {quote_name(s.name)} = {string_literal(s.value)}",
    Undefine: lambda s: f"UNDEFINE {quote_name(s.name)}",
    Print: _print,
    RunScript: lambda s: f"RUN SCRIPT {string_literal(s.path)}",
    AssertTopic: lambda s: "ASSERT " + ("" if s.exists else "NOT EXISTS ") + f"TOPIC {string_literal(s.topic)}"
    + properties_sql(s.properties) + _timeout(s.timeout_ms),
    AssertSchema: _assert_schema,
    AssertValues: _assert_values,
    AssertStream: lambda s: f"ASSERT {s.kind} {quote_name(s.name)}{_columns(s.columns)}{properties_sql(s.properties)}",
    ConnectorStatement: _connector,
}


def render_statement(statement: Statement) -> str:
    """Canonical ksqlDB text of ``statement`` (no trailing ``;``)."""
    return RENDERERS[type(statement)](statement)
