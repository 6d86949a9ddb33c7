"""Reading a source topic for a consumer group: fetch from committed offsets, commit after."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from engine.topics.base import RAW_SCHEMA, Topic, TopicStore


class TopicReader:
    """Fetches raw batches of one topic across its partitions for one consumer group.

    Positions start at the group's committed offsets (or the earliest offset) and advance as
    batches are handed out; ``commit`` stores them, so a restart resumes after the last commit.
    """

    def __init__(self, store: TopicStore, topic: Topic, group: str, from_beginning: bool = True) -> None:
        self._store = store
        self._topic = topic
        self._group = group
        committed = store.committed(group, topic.name)
        ends = topic.end_offsets()
        self.positions = [committed.get(p, 0 if from_beginning else ends[p]) for p in range(topic.partitions)]
        self._fetched_from = list(self.positions)

    @property
    def topic(self) -> Topic:
        """The topic read."""
        return self._topic

    def seek(self, positions: dict[int, int]) -> None:
        """Start from these offsets (e.g. the ones saved with a query's state)."""
        for part, offset in positions.items():
            if part < len(self.positions):
                self.positions[part] = offset
        self._fetched_from = list(self.positions)

    def rewind(self) -> None:
        """Go back to where the last fetch started (its batch failed and is retried)."""
        self.positions = list(self._fetched_from)

    def fetch(self, max_records: int = 50_000) -> pa.RecordBatch | None:
        """The next records of all partitions in timestamp order (stable per partition), or None."""
        self._fetched_from = list(self.positions)
        parts: list[pa.RecordBatch] = []
        per_partition = max(1, max_records // max(1, len(self.positions)))
        for p, pos in enumerate(self.positions):
            try:
                batch = self._topic.fetch(p, pos, per_partition)
            except Exception:
                self.positions = list(self._fetched_from)  # nothing of this fetch was handed out
                raise
            if batch.num_rows:
                parts.append(batch)
                # Kafka offsets can have gaps (transaction markers, compaction): continue after
                # the last record returned, not after as many offsets as records.
                self.positions[p] = int(batch.column("offset")[batch.num_rows - 1].as_py()) + 1
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        # Across partitions, process in event-time order as Kafka Streams picks the head with the
        # lowest timestamp; the sort is stable so each partition keeps its own order.
        table = pa.Table.from_batches(parts, schema=RAW_SCHEMA)
        order = pc.sort_indices(table, sort_keys=[("timestamp", "ascending")])
        return table.take(order).combine_chunks().to_batches()[0]

    def lag(self) -> int:
        """Records not yet fetched."""
        return sum(max(0, end - pos) for end, pos in zip(self._topic.end_offsets(), self.positions, strict=False))

    def commit(self) -> None:
        """Store the current positions as the group's committed offsets."""
        self._store.commit(self._group, {(self._topic.name, p): pos for p, pos in enumerate(self.positions)})
