"""PRINT topic: records as ksqlDB's CLI shows them (rowtime, key, value, partition)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import KsqlStatementError
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


def print_records(engine: Engine, stmt: st.Print) -> list[str]:
    """Lines for the records of a topic now (from the beginning, or none with a plain PRINT)."""
    topic = engine.store.topic(stmt.topic) or engine.store.topic(stmt.topic.upper())
    if topic is None:
        raise KsqlStatementError(f"Could not find topic '{stmt.topic}', or the KSQL user does not have "
                                 f"permissions to list the topic. Topic names are case-sensitive.")
    if not stmt.from_beginning:
        return []
    lines: list[str] = []
    interval = max(1, stmt.interval or 1)
    seen = 0
    for p in range(topic.partitions):
        batch = topic.fetch(p, 0, 1_000_000)
        for row in batch.to_pylist():
            if seen % interval == 0:
                lines.append(f"rowtime: {row['timestamp']}, key: {_text(row['key'])}, "
                             f"value: {_text(row['value'])}, partition: {p}")
            seen += 1
            if stmt.limit is not None and len(lines) >= stmt.limit:
                return lines
    return lines
