"""A running persistent query: read a batch, transform it, write the result, commit.

The commit order is what makes restarts safe (at-least-once, and exactly-once for the state
of aggregates, which commit offsets in the same DuckDB transaction as the state):
1. fetch records after the committed offsets,
2. process them and produce every output record to the sink topic,
3. only then commit the source offsets.
A crash between 2 and 3 re-processes the batch; nothing acknowledged is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from engine.catalog import QueryInfo
from engine.runtime.reader import TopicReader
from engine.topics.base import Topic

# A processor turns a raw batch of input ``i`` (the index of its reader) into raw output batches
# (already encoded) for the sink.
Processor = Callable[[int, pa.RecordBatch], list[pa.RecordBatch]]


@dataclass(slots=True)
class QueryStats:
    """Counters shown by the CLI and DESCRIBE EXTENDED."""

    records_in: int = 0
    records_out: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)


class RunningQuery:
    """One persistent query bound to its readers, processor and sink topic."""

    def __init__(self, info: QueryInfo, readers: list[TopicReader], processor: Processor,
                 sink: Topic | None, max_records: int = 50_000) -> None:
        self.info = info
        self.readers = readers
        self.processor = processor
        self.sink = sink
        self.max_records = max_records
        self.stats = QueryStats()

    def step(self) -> int:
        """Process one batch from the first reader with data; returns records consumed."""
        if self.info.state != "RUNNING":
            return 0
        for index, reader in enumerate(self.readers):
            raw = reader.fetch(self.max_records)
            if raw is None:
                continue
            try:
                outputs = self.processor(index, raw)
                if self.sink is not None:
                    for out in outputs:
                        if out.num_rows:
                            self.sink.produce(out)
                            self.stats.records_out += out.num_rows
            except BaseException:
                rollback = getattr(self.processor, "rollback", None)
                if rollback is not None:
                    rollback()
                reader.rewind()
                raise
            commit = getattr(self.processor, "commit", None)
            if commit is not None:
                commit(reader.topic.name, reader.positions)  # state and offsets in one transaction
            reader.commit()
            self.stats.records_in += raw.num_rows
            return raw.num_rows
        return 0

    def lag(self) -> int:
        """Records waiting in the source topics."""
        return sum(r.lag() for r in self.readers)
