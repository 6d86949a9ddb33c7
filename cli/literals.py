"""JSON values -> ksqlDB literals, so `/inserts-stream` rows become ``INSERT ... VALUES`` statements
that go through the engine's one API (no reaching into its encoders)."""

from __future__ import annotations

import json
from typing import Any

from engine.catalog import Source
from engine.errors import KsqlStatementError
from parser.statements import SqlType


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def literal(value: Any, type_: SqlType | None) -> str:
    """``value`` (decoded JSON) as a ksqlDB literal of ``type_`` (None: inferred from the value)."""
    base = type_.base if type_ is not None else ""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        item = type_.items[0] if type_ is not None and type_.items else None
        return "ARRAY[" + ", ".join(literal(v, item) for v in value) + "]"
    if isinstance(value, dict):
        if base == "MAP" and type_ is not None:
            key_t, val_t = type_.items
            return "MAP(" + ", ".join(f"{literal(k, key_t)} := {literal(v, val_t)}" for k, v in value.items()) + ")"
        fields: dict[str, SqlType] = dict(type_.fields) if type_ is not None else {}
        by_upper: dict[str, str] = {n.upper(): n for n in fields}
        parts = []
        for k, v in value.items():
            key = str(k)
            name = key if key in fields else by_upper.get(key.upper(), key)
            parts.append(f"`{name}` := {literal(v, fields.get(name))}")
        return "STRUCT(" + ", ".join(parts) + ")"
    return _string(json.dumps(value, default=str))


def insert_statement(source: Source, row: dict[str, Any]) -> str:
    """An ``INSERT INTO source (cols) VALUES (...)`` for one JSON row; column names match
    case-insensitively, as ksqlDB's inserts endpoint does."""
    columns = {c.name.upper(): c for c in source.columns}
    names, values = [], []
    for key, value in row.items():
        if key.upper() == "ROWTIME":
            names.append("ROWTIME")
            values.append(literal(value, None))
            continue
        col = source.column(key) or columns.get(key.upper())
        if col is None:
            raise KsqlStatementError(f"Column name {key} does not exist.")
        names.append(f"`{col.name}`")
        values.append(literal(value, col.type))
    if not names:
        raise KsqlStatementError("An insert needs at least one column.")
    return f"INSERT INTO `{source.name}` ({', '.join(names)}) VALUES ({', '.join(values)});"
