"""Running one DuckDB statement over an Arrow batch, with errors sent to the processing log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from engine.runtime.processing_log import RECORD_PROCESSING_ERROR, ProcessingError

if TYPE_CHECKING:
    from engine.engine import Engine


class BatchEvaluator:
    """A DuckDB cursor of the engine's database, owned by one query."""

    def __init__(self, engine: Engine, query_id: str) -> None:
        self._engine = engine
        self._query_id = query_id
        self.cursor = engine.db.cursor()

    def run(self, sql: str, batch: pa.Table) -> pa.Table | None:
        """Run ``sql`` (which reads the relation ``batch``); None if the batch failed as a whole."""
        self.cursor.register("batch", batch)
        try:
            return self.cursor.sql(sql).to_arrow_table()
        except duckdb.Error as err:
            # Expressions are compiled to avoid data-dependent errors; one that escapes fails the
            # batch, which is logged rather than stopping the query.
            self._engine.processing_log.write(self._query_id, [ProcessingError(
                RECORD_PROCESSING_ERROR, f"Error evaluating batch: {err}", "", -1, -1)])
            return None
        finally:
            self.cursor.unregister("batch")
