"""Exactly-once output for a join's sink: an intent log so a replayed batch produces nothing twice.

Commit order of a batch (``engine.runtime.query.RunningQuery.step``):
1. fetch a batch of one input: offsets ``start`` .. ``stop`` per partition;
2. process it (state changes in the open DuckDB transaction);
3. record the *intent* — input index, ``start``, ``stop`` and the sink's end offsets — in its own
   small DuckDB transaction, committed before anything is produced;
4. produce the outputs, each to the partition its key hashes to;
5. commit state and offsets together.
A crash before 5 rolls the state back to ``start``. On restart the intent whose ``start`` equals
the saved offsets is replayed first: the same input range through the same state gives the same
outputs in the same order, and the first ``end now - end at intent`` outputs of each sink
partition were already produced, so they are skipped. The sink must be written by this query
alone (a CSAS/CTAS sink), and every output needs a key when the sink has several partitions
(null keys are spread round-robin, which a replay cannot repeat); otherwise delivery stays
at-least-once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.state import store
from engine.topics.partitioner import partition_for_keys

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.topics.base import Topic

INTENT_TABLE = "__streamsql_join_intent"


@dataclass(frozen=True, slots=True)
class Intent:
    """A batch about to be produced."""

    reader: int
    start: list[int]
    stop: list[int]
    sink_ends: list[int]


class ExactlyOnceDelivery:
    """The intent log of one query (see the module docstring)."""

    def __init__(self, engine: Engine, query_id: str) -> None:
        self._query_id = query_id
        # Its own connection: the intent commits while the state transaction is still open.
        self._cur = engine.db.cursor()
        self._cur.execute(f"CREATE TABLE IF NOT EXISTS {INTENT_TABLE} (query_id VARCHAR PRIMARY KEY, "
                          f"reader INTEGER, start VARCHAR, stop VARCHAR, sink_ends VARCHAR)")

    def pending(self) -> Intent | None:
        """The last recorded intent (the caller checks whether its state committed)."""
        row = self._cur.execute(f"SELECT reader, start, stop, sink_ends FROM {INTENT_TABLE} WHERE query_id = ?",
                                [self._query_id]).fetchone()
        if row is None:
            return None
        return Intent(int(row[0]), json.loads(row[1]), json.loads(row[2]), json.loads(row[3]))

    def record(self, intent: Intent) -> None:
        """Durably note the batch about to be produced."""
        store.save_row(self._cur, INTENT_TABLE, {"query_id": self._query_id},
                       {"reader": intent.reader, "start": json.dumps(intent.start), "stop": json.dumps(intent.stop),
                        "sink_ends": json.dumps(intent.sink_ends)})

    def drop(self) -> None:
        """Forget the query's intent."""
        self._cur.execute(f"DELETE FROM {INTENT_TABLE} WHERE query_id = ?", [self._query_id])


def deterministic(batches: list[pa.RecordBatch], partitions: int) -> bool:
    """Can a replay put these outputs on the same partitions (one partition, or all keyed)?"""
    return partitions == 1 or all(b.column("key").null_count == 0 for b in batches)


def with_partitions(batch: pa.RecordBatch, partitions: int) -> pa.RecordBatch:
    """The batch with each record's partition set from its key, as the producer would choose."""
    if partitions == 1:
        parts = pa.array(np.zeros(batch.num_rows, dtype=np.int32))
    else:
        parts = partition_for_keys(batch.column("key"), partitions).cast(pa.int32())
    return batch.set_column(batch.schema.get_field_index("partition"), "partition", parts)


def skip_produced(batch: pa.RecordBatch, skip: list[int]) -> pa.RecordBatch:
    """Drop, per partition, the first ``skip[p]`` records (already produced before a crash);
    ``skip`` is consumed as records are dropped."""
    parts = batch.column("partition").to_numpy(zero_copy_only=False)
    keep = np.ones(batch.num_rows, dtype=bool)
    for p, count in enumerate(skip):
        if count <= 0:
            continue
        rows = np.flatnonzero(parts == p)[:count]
        keep[rows] = False
        skip[p] -= len(rows)
    return batch.filter(pa.array(keep)) if not keep.all() else batch


def produce(sink: Topic, batches: list[pa.RecordBatch], skip: list[int] | None) -> int:
    """Produce the outputs (partitions pinned by key), minus already produced ones; the count."""
    produced = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        out = with_partitions(batch, sink.partitions)
        if skip is not None:
            out = skip_produced(out, skip)
        if out.num_rows:
            sink.produce(out)
            produced += out.num_rows
    return produced


def cut_batch(raw: pa.RecordBatch, start: list[int], stop: list[int]) -> pa.RecordBatch:
    """Only the records before ``stop`` of each partition."""
    limit = pa.array(np.asarray(stop, dtype=np.int64))
    parts = raw.column("partition").cast(pa.int64())
    return raw.filter(pc.less(raw.column("offset"), pc.take(limit, parts)))
