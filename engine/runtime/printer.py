"""PRINT topic: records as ksqlDB's CLI shows them (rowtime, key, value, partition).

When a stream or table is registered over the topic, keys and values are decoded with its
formats and shown as JSON text; otherwise bytes are shown as UTF-8 (or hex when not text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from engine.catalog import Source
from engine.errors import KsqlStatementError
from engine.formats import FormatError, get_format
from parser import statements as st

if TYPE_CHECKING:
    from engine.engine import Engine


def _text(data: bytes | None) -> str:
    if data is None:
        return "<null>"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.hex()


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _decoded(source: Source, column: pa.Array, is_key: bool) -> list[str] | None:
    """Each record's key or value decoded with the source's format, as JSON text."""
    cols = source.key_columns if is_key else source.value_columns
    try:
        fmt = get_format(source.key_format if is_key else source.value_format,
                         source.key_properties if is_key else source.value_properties, is_key=is_key)
        decoded = fmt.decode(column, [(c.name, c.type) for c in cols])
    except FormatError:
        return None
    if decoded.errors or len(decoded.kept) != len(column):
        return None
    out = []
    for row, null in zip(decoded.table.to_pylist(), decoded.is_null.to_pylist(), strict=True):
        if null:
            out.append("<null>")
        elif len(row) == 1 and is_key:
            out.append(_json(next(iter(row.values()))))
        else:
            out.append(_json(row))
    return out


def print_records(engine: Engine, stmt: st.Print) -> list[str]:
    """Lines for the records of a topic now (from the beginning, or none with a plain PRINT)."""
    topic = engine.store.topic(stmt.topic) or engine.store.topic(stmt.topic.upper())
    if topic is None:
        raise KsqlStatementError(f"Could not find topic '{stmt.topic}', or the KSQL user does not have "
                                 f"permissions to list the topic. Topic names are case-sensitive.")
    if not stmt.from_beginning:
        return []
    source = next((s for s in engine.catalog.sources.values() if s.topic == topic.name and s.window is None), None)
    lines: list[str] = []
    interval = max(1, stmt.interval or 1)
    seen = 0
    for p in range(topic.partitions):
        batch = topic.fetch(p, 0, 1_000_000)
        keys = _decoded(source, batch.column("key"), True) if source else None
        values = _decoded(source, batch.column("value"), False) if source else None
        for i, row in enumerate(batch.to_pylist()):
            if seen % interval == 0:
                key = keys[i] if keys else _text(row["key"])
                value = values[i] if values else _text(row["value"])
                lines.append(f"rowtime: {row['timestamp']}, key: {key}, value: {value}, partition: {p}")
            seen += 1
            if stmt.limit is not None and len(lines) >= stmt.limit:
                return lines
    return lines
