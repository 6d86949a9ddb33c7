"""Materialising a table's changelog into a DuckDB table named after it (for pull queries).

Used for CREATE TABLE sources and for table queries without aggregation. The DuckDB table has
the table's key and value columns (plus WINDOWSTART/WINDOWEND when windowed) and ``ROWTIME``;
each batch upserts the last change per key and deletes tombstoned keys, in the
same transaction as the query's saved offsets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine import types as t
from engine.catalog import Source
from engine.expressions.scope import quote_ident as q
from engine.operators.codec import NULL_VALUE, SourceDecoder
from engine.state import store

if TYPE_CHECKING:
    from engine.engine import Engine


class TableMaterializer:
    """Keeps ``"<NAME>"`` in the engine database equal to the table's current rows."""

    def __init__(self, engine: Engine, query_id: str, source: Source, name: str | None = None,
                 cursor: duckdb.DuckDBPyConnection | None = None) -> None:
        self._engine = engine
        self._query_id = query_id
        self.name = name or source.name
        self._keys = [c.name for c in source.key_columns]
        if source.window is not None:
            self._keys += ["WINDOWSTART", "WINDOWEND"]
        self._columns = [(c.name, t.to_duckdb(c.type)) for c in source.key_columns + source.value_columns]
        if source.window is not None:
            self._columns[len(source.key_columns):len(source.key_columns)] = [("WINDOWSTART", "BIGINT"),
                                                                             ("WINDOWEND", "BIGINT")]
        # A join upstream passes its cursor so its state commits in this transaction.
        self._cursor = cursor if cursor is not None else engine.db.cursor()
        store.ensure_tables(self._cursor)
        cols = ", ".join(f"{q(n)} {ty}" for n, ty in self._columns + [("ROWTIME", "BIGINT")])
        self._cursor.execute(f"CREATE TABLE IF NOT EXISTS {q(self.name)} ({cols})")
        self._decoder = SourceDecoder(source)
        self._in_tx = False

    def initial_positions(self, topic: str) -> dict[int, int]:
        """Offsets saved with the materialised rows."""
        return store.load_offsets(self._cursor, self._query_id, topic)

    def __call__(self, index: int, raw: pa.RecordBatch) -> list[pa.RecordBatch]:
        decoded, errors = self._decoder.decode(raw)
        self._engine.processing_log.write(self._query_id, errors)
        self.apply(decoded, decoded.column(NULL_VALUE))
        return []

    def apply(self, rows: pa.Table, deleted: pa.ChunkedArray | pa.Array) -> None:
        """Upsert ``rows`` (table columns + ``ROWTIME``), deleting keys where ``deleted``."""
        if rows.num_rows == 0:
            return
        present = pc.and_(*[pc.is_valid(rows.column(k)) for k in self._keys]) if len(self._keys) > 1 \
            else pc.is_valid(rows.column(self._keys[0]))
        rows = rows.append_column("__DEL", deleted).filter(present)
        rows = rows.append_column("__SEQ", pa.array(np.arange(rows.num_rows, dtype=np.int64)))
        cur = self._cursor
        self.begin()
        cur.register("chg", rows)
        try:
            part = ", ".join(q(k) for k in self._keys)
            cur.execute(f"CREATE OR REPLACE TEMP TABLE __last AS SELECT * FROM chg QUALIFY "
                        f"row_number() OVER (PARTITION BY {part} ORDER BY \"__SEQ\" DESC) = 1")
            match = " AND ".join(f"{q(self.name)}.{q(k)} = __last.{q(k)}" for k in self._keys)
            cur.execute(f"DELETE FROM {q(self.name)} USING __last WHERE {match}")
            names = ", ".join(q(n) for n, _ in self._columns + [("ROWTIME", "")])
            cur.execute(f"INSERT INTO {q(self.name)} ({names}) SELECT {names} FROM __last WHERE NOT \"__DEL\"")
        finally:
            cur.unregister("chg")

    def begin(self) -> None:
        """Open the transaction unless one is open (a join upstream opens it first)."""
        if not self._in_tx:
            self._cursor.execute("BEGIN TRANSACTION")
            self._in_tx = True

    def commit(self, topic: str, positions: list[int]) -> None:
        """Save offsets with the rows and commit."""
        if not self._in_tx:
            self._cursor.execute("BEGIN TRANSACTION")
        store.save_offsets(self._cursor, self._query_id, topic, positions)
        self._cursor.execute("COMMIT")
        self._in_tx = False

    def rollback(self) -> None:
        """Abandon the open transaction."""
        if self._in_tx:
            self._cursor.execute("ROLLBACK")
            self._in_tx = False

    def drop_state(self) -> None:
        """Drop the materialised table and the saved offsets."""
        self._cursor.execute(f"DROP TABLE IF EXISTS {q(self.name)}")
        store.drop_query_state(self._cursor, self._query_id)
