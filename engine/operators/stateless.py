"""The stateless stream operator: decode, one DuckDB statement per batch, encode."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from engine.catalog import ROWTIME, Source
from engine.operators.codec import NULL_VALUE, SinkEncoder, SourceDecoder
from engine.operators.evaluate import BatchEvaluator
from engine.operators.materialize import TableMaterializer
from engine.planner.stateless import TS_COLUMN, StatelessPlan

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.runtime.push import PushQuery


class StatelessProcessor:
    """Filter, project, explode and re-key a batch of a stream (or a table's changelog)."""

    def __init__(self, engine: Engine, query_id: str, plan: StatelessPlan, source: Source, sink: Source,
                 materialize: bool = False) -> None:
        self._engine = engine
        self._query_id = query_id
        self._plan = plan
        self._decoder = SourceDecoder(source)
        self._encoder = SinkEncoder(sink)
        self._evaluator = BatchEvaluator(engine, query_id, source.topic)
        self._sink = sink
        self._table_source = source.kind == "TABLE"
        self._materializer = TableMaterializer(engine, query_id, sink) if materialize else None
        if self._materializer is not None:
            self.initial_positions = self._materializer.initial_positions
            self.commit = self._materializer.commit
            self.rollback = self._materializer.rollback

    def __call__(self, index: int, raw: pa.RecordBatch) -> list[pa.RecordBatch]:
        decoded, errors = self._decoder.decode(raw)
        self._engine.processing_log.write(self._query_id, errors)
        if decoded.num_rows == 0:
            return []
        out = self._evaluator.run(self._plan.sql, decoded)
        if out is None or out.num_rows == 0:
            return []
        if self._table_source and self._plan.key_columns:
            # A table row needs its key; rows without one are dropped, as ksqlDB does.
            out = out.filter(pc.is_valid(out.column(self._plan.key_columns[0].name)))
        timestamps = out.column(TS_COLUMN)
        if self._materializer is not None:
            self._materializer.apply(out.rename_columns([ROWTIME if n == TS_COLUMN else n for n in out.column_names]),
                                     out.column(NULL_VALUE))
        return [self._encoder.encode(out, timestamps, null_keys=not self._plan.partitioned)]


class PushProcessor:
    """Like StatelessProcessor, but hands result rows (in SELECT order) to a push query."""

    def __init__(self, engine: Engine, query_id: str, plan: StatelessPlan, source: Source,
                 push: PushQuery) -> None:
        self._engine = engine
        self._query_id = query_id
        self._plan = plan
        self._decoder = SourceDecoder(source)
        self._evaluator = BatchEvaluator(engine, query_id, source.topic)
        self._push = push

    def __call__(self, index: int, raw: pa.RecordBatch) -> list[pa.RecordBatch]:
        decoded, errors = self._decoder.decode(raw)
        self._engine.processing_log.write(self._query_id, errors)
        if decoded.num_rows:
            out = self._evaluator.run(self._plan.sql, decoded)
            if out is not None:
                self._push.offer(out.select([name for name, _ in self._push.columns]))
        return []
