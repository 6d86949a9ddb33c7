"""Running one DuckDB statement over an Arrow batch, with bad records sent to the processing log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from engine.catalog import ROWOFFSET, ROWPARTITION
from engine.runtime.processing_log import RECORD_PROCESSING_ERROR, ProcessingError

if TYPE_CHECKING:
    from engine.engine import Engine


class BatchEvaluator:
    """A DuckDB cursor of the engine's database, owned by one query."""

    def __init__(self, engine: Engine, query_id: str, topic: str = "") -> None:
        self._engine = engine
        self._query_id = query_id
        self._topic = topic  # the source topic, named in processing-log rows
        self.cursor = engine.db.cursor()

    def run(self, sql: str, batch: pa.Table) -> pa.Table | None:
        """Run ``sql`` (which reads the relation ``batch``) over the whole batch.

        Expressions are compiled to avoid data-dependent errors; when one still fails the
        statement, the batch is split in halves until the failing records are isolated: each
        becomes a processing-log row and every other record is still processed. None when no
        record could be evaluated.
        """
        try:
            return self._execute(sql, batch)
        except duckdb.Error as err:
            parts = self._isolate(sql, batch, err)
        good = [p for p in parts if p is not None]
        return pa.concat_tables(good) if good else None

    def _execute(self, sql: str, batch: pa.Table) -> pa.Table:
        self.cursor.register("batch", batch)
        try:
            return self.cursor.sql(sql).to_arrow_table()
        finally:
            self.cursor.unregister("batch")

    def _isolate(self, sql: str, batch: pa.Table, err: duckdb.Error) -> list[pa.Table | None]:
        """Results of the parts of ``batch`` that evaluate; failing single records are logged."""
        if batch.num_rows <= 1:
            self._log(batch, err)
            return [None]
        out: list[pa.Table | None] = []
        half = batch.num_rows // 2
        for part in (batch.slice(0, half), batch.slice(half)):
            try:
                out.append(self._execute(sql, part))
            except duckdb.Error as part_err:
                out.extend(self._isolate(sql, part, part_err))
        return out

    def _log(self, row: pa.Table, err: duckdb.Error) -> None:
        names = row.column_names
        partition = row.column(ROWPARTITION)[0].as_py() if ROWPARTITION in names and row.num_rows else -1
        offset = row.column(ROWOFFSET)[0].as_py() if ROWOFFSET in names and row.num_rows else -1
        self._engine.processing_log.write(self._query_id, [ProcessingError(
            RECORD_PROCESSING_ERROR, f"Error evaluating record: {err}", self._topic, partition, offset)])
