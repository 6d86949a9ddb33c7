"""A running persistent query: read a batch, transform it, write the result, commit.

The commit order is what makes restarts safe (at-least-once, and exactly-once for the state
of aggregates, which commit offsets in the same DuckDB transaction as the state):
1. fetch records after the committed offsets,
2. process them and produce every output record to the sink topic,
3. only then commit the source offsets.
A crash between 2 and 3 re-processes the batch; nothing acknowledged is lost.

Joins read several inputs: each step takes the input whose next record is earliest and stops its
batch before the first record later than another input's next one (Kafka Streams' event-time
choice between partitions). A join writing its own sink also records an intent before producing
(``engine.operators.join_delivery``) so a batch replayed after a crash skips the outputs it had
already produced: exactly-once output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from engine.catalog import QueryInfo
from engine.operators.join_delivery import ExactlyOnceDelivery, Intent, cut_batch, deterministic, produce
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
        self._replay_checked = False
        self.min_ordered_batch = 1  # joins: see _until (start_query sets it from the properties)

    def step(self) -> int:
        """Process one batch (from the input whose next record is earliest); records consumed."""
        if self.info.state != "RUNNING":
            return 0
        delivery = getattr(self.processor, "delivery", None)  # joins: exactly-once sink output
        if delivery is not None and not self._replay_checked:
            self._replay_checked = True  # an intent can only be pending right after a start
            replayed = self._replay(delivery)
            if replayed is not None:
                return replayed
        if len(self.readers) > 1:
            return self._step_ordered(delivery)
        for index, reader in enumerate(self.readers):
            start = list(reader.positions)
            raw = reader.fetch(self.max_records)
            if raw is not None:
                return self._process(index, reader, raw, start, delivery)
        return 0

    # -- several inputs (joins): event-time order, exactly-once output --------------------------

    def _head(self, reader: TopicReader) -> int | None:
        """The lowest timestamp among the next records of the reader's partitions."""
        # A fetch of one record, not the end offsets: the topic serves it from its buffer (a
        # ListOffsets round trip per step showed in the join profiles on Kafka).
        heads = [int(batch.column("timestamp")[0].as_py())
                 for p, pos in enumerate(reader.positions) if (batch := reader.topic.fetch(p, pos, 1)).num_rows]
        return min(heads) if heads else None

    def _step_ordered(self, delivery: object) -> int:
        """Kafka Streams picks the input whose head record is earliest; the batch stops before
        the first record later than another input's head, so inputs interleave by time."""
        heads = [self._head(r) for r in self.readers]
        ready = [(ts, i) for i, ts in enumerate(heads) if ts is not None]
        if not ready:
            return 0
        _, index = min(ready)
        others = [ts for i, ts in enumerate(heads) if ts is not None and i != index]
        reader = self.readers[index]
        start = list(reader.positions)
        raw = reader.fetch(self.max_records)
        if raw is None:
            return 0
        if others:
            raw = self._until(reader, raw, start, min(others), self.min_ordered_batch)
        return self._process(index, reader, raw, start, delivery)

    @staticmethod
    def _until(reader: TopicReader, raw: pa.RecordBatch, start: list[int], bound: int,
               floor: int) -> pa.RecordBatch:
        """The leading records up to ``bound``, positions moved back to match. At least ``floor``
        records are taken: finely interleaved inputs would otherwise make batches of one record,
        so the event-time order across inputs holds to within ``floor`` records."""
        ts = raw.column("timestamp").to_numpy(zero_copy_only=False)
        later = np.flatnonzero(ts > bound)
        count = int(later[0]) if later.size else raw.num_rows
        count = min(raw.num_rows, max(count, floor, 1))
        parts = raw.column("partition").to_numpy(zero_copy_only=False)[:count]
        stop = [s + int((parts == p).sum()) for p, s in enumerate(start)]
        reader.positions = stop
        return cut_batch(raw, start, stop)

    def _replay(self, delivery: ExactlyOnceDelivery) -> int | None:
        """After a crash: re-run the batch whose outputs may be partly produced, exactly as before."""
        intent = delivery.pending()
        if intent is None or intent.reader >= len(self.readers):
            return None
        reader = self.readers[intent.reader]
        if reader.positions != intent.start or intent.stop == intent.start:
            return None
        raw = reader.fetch(self.max_records)
        if raw is None:
            return None
        raw = cut_batch(raw, intent.start, intent.stop)
        reader.positions = list(intent.stop)
        return self._process(intent.reader, reader, raw, intent.start, delivery, intent)

    def _process(self, index: int, reader: TopicReader, raw: pa.RecordBatch, start: list[int],
                 delivery: object, replay: Intent | None = None) -> int:
        try:
            outputs = self.processor(index, raw)
            if self.sink is not None:
                self.stats.records_out += self._produce(index, reader, start, outputs, delivery, replay)
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

    def _produce(self, index: int, reader: TopicReader, start: list[int], outputs: list[pa.RecordBatch],
                 delivery: object, replay: Intent | None) -> int:
        assert self.sink is not None
        if not isinstance(delivery, ExactlyOnceDelivery) or not deterministic(outputs, self.sink.partitions):
            count = 0
            for out in outputs:
                if out.num_rows:
                    self.sink.produce(out)
                    count += out.num_rows
            return count
        ends = self.sink.end_offsets()
        if replay is None:
            delivery.record(Intent(index, start, list(reader.positions), ends))
            return produce(self.sink, outputs, None)
        skip = [max(0, now - then) for now, then in zip(ends, replay.sink_ends, strict=False)]
        return produce(self.sink, outputs, skip)

    def lag(self) -> int:
        """Records waiting in the source topics."""
        return sum(r.lag() for r in self.readers)
