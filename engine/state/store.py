"""Query state bookkeeping in the engine's DuckDB database: source offsets and stream time.

Stateful queries keep their source offsets and per-partition stream time in the same database
(and the same transaction) as their state tables, so a restart resumes exactly where the saved
state ends: nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import duckdb

OFFSETS = "__streamsql_offsets"
STREAM_TIME = "__streamsql_stream_time"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables if missing."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {OFFSETS} (query_id VARCHAR, topic VARCHAR, part INTEGER, "
                f"next_offset BIGINT, PRIMARY KEY (query_id, topic, part))")
    con.execute(f"CREATE TABLE IF NOT EXISTS {STREAM_TIME} (query_id VARCHAR, part INTEGER, st BIGINT, "
                f"PRIMARY KEY (query_id, part))")


def load_offsets(con: duckdb.DuckDBPyConnection, query_id: str, topic: str) -> dict[int, int]:
    """Saved next offsets of ``query_id`` for ``topic``: partition -> offset."""
    rows = con.execute(f"SELECT part, next_offset FROM {OFFSETS} WHERE query_id = ? AND topic = ?",
                       [query_id, topic]).fetchall()
    return {int(p): int(o) for p, o in rows}


def save_offsets(con: duckdb.DuckDBPyConnection, query_id: str, topic: str, positions: list[int]) -> None:
    """Upsert the next offsets (call inside the state transaction)."""
    for part, offset in enumerate(positions):
        con.execute(f"INSERT OR REPLACE INTO {OFFSETS} VALUES (?, ?, ?, ?)", [query_id, topic, part, offset])


def load_stream_time(con: duckdb.DuckDBPyConnection, query_id: str) -> dict[int, int]:
    """Saved stream time per source partition."""
    rows = con.execute(f"SELECT part, st FROM {STREAM_TIME} WHERE query_id = ?", [query_id]).fetchall()
    return {int(p): int(s) for p, s in rows}


def save_stream_time(con: duckdb.DuckDBPyConnection, query_id: str, times: dict[int, int]) -> None:
    """Upsert stream time per partition (call inside the state transaction)."""
    for part, st in times.items():
        con.execute(f"INSERT OR REPLACE INTO {STREAM_TIME} VALUES (?, ?, ?)", [query_id, part, st])


def drop_query_state(con: duckdb.DuckDBPyConnection, query_id: str) -> None:
    """Forget a query's offsets and stream time (its state tables are dropped by their owner)."""
    con.execute(f"DELETE FROM {OFFSETS} WHERE query_id = ?", [query_id])
    con.execute(f"DELETE FROM {STREAM_TIME} WHERE query_id = ?", [query_id])
