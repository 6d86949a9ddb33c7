"""``KafkaTopic``: one topic of a ``KafkaStore`` (produce, buffered fetch with read-ahead, end offsets)."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Awaitable
from typing import TYPE_CHECKING

import aiokafka.errors as errors
import numpy as np
import pyarrow as pa

from engine.topics.base import TopicError
from engine.topics.kafka_client import LATEST
from engine.topics.kafka_records import build_batches, decode, empty_batch, normalise, stored_batch
from engine.topics.partitioner import RoundRobin

if TYPE_CHECKING:
    from engine.topics.kafka import KafkaStore


class KafkaTopic:
    """One topic of a ``KafkaStore``; implements ``Topic``."""

    def __init__(self, store: KafkaStore, name: str, partitions: int) -> None:
        self._store = store
        self._name = name
        self._partitions = partitions
        self._round_robin = RoundRobin()
        self._buffers: dict[int, pa.RecordBatch] = {}  # the last decoded response per partition
        self._prefetch: dict[int, tuple[int, concurrent.futures.Future[bytes]]] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def partitions(self) -> int:
        return self._partitions

    def produce(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Append records; return them as stored (grouped by partition, offsets filled in).

        Missing timestamps become the current time; a null value is a tombstone. Records of one
        partition are written in order; a failure may leave earlier Kafka batches written.
        """
        if batch.num_rows == 0:
            return empty_batch()
        rows = normalise(batch, self._partitions, self._round_robin, self._name)
        builders = build_batches(rows, self._store._new_builder, self._store.max_batch_bytes)
        try:
            bases = self._store._run(self._store._send(self._name, builders))
        except TopicError as exc:
            # Kafka's answer to keyless records on a compacted topic is a bare error code.
            rejected = isinstance(exc.__cause__, (errors.UnknownError, errors.CorruptRecordException))
            if rejected and rows.key.null_count:
                raise TopicError(
                    f"{exc} (producing to '{self._name}'; a compacted topic rejects records without a key)"
                ) from exc
            raise
        return stored_batch(rows, builders, bases)

    def fetch(self, partition: int, offset: int, max_records: int = 10_000) -> pa.RecordBatch:
        """Records of ``partition`` from ``offset`` on (at most ``max_records``), RAW_SCHEMA."""
        if not 0 <= partition < self._partitions:
            raise TopicError(f"Partition {partition} out of range for topic '{self._name}'")
        if max_records <= 0:
            return empty_batch()
        with self._lock:
            batch = self._from_buffer(partition, offset, max_records)
            if batch is None:
                decoded = self._fetch_remote(partition, offset)
                if decoded.num_rows == 0:
                    return decoded
                self._buffers[partition] = decoded
                batch = decoded.slice(0, max_records)
            buffered = self._buffers[partition]
            self._start_prefetch(partition, int(buffered.column(1)[buffered.num_rows - 1].as_py()) + 1)
            return batch

    def _from_buffer(self, partition: int, offset: int, max_records: int) -> pa.RecordBatch | None:
        """Records from the last decoded response, which is kept whole: readers that peek at a
        head record or cut a batch short read the same offsets again (joins, ordered inputs),
        and a response is decoded once, not once per re-read."""
        buffered = self._buffers.get(partition)
        if buffered is None or buffered.num_rows == 0:
            return None
        offsets = buffered.column(1).to_numpy()
        if not offsets[0] <= offset <= offsets[-1]:
            return None
        start = int(np.searchsorted(offsets, offset))  # offsets ascend; gaps allowed
        return buffered.slice(start, max_records)

    def _fetch_remote(self, partition: int, offset: int) -> pa.RecordBatch:
        store = self._store
        data = self._take_prefetched(partition, offset)
        if data is not None and len(data) < store.fetch_max_bytes // 2:
            # A short read-ahead means the reader had caught up when it was sent (before the
            # caller processed its previous batch): fetch again so records that arrived since
            # are not left for the next cycle (it added a cycle of latency to joins).
            data = None
        while True:
            if not data:  # no read-ahead, or it found nothing: records may have arrived since
                offset, data = store._run(store._fetch_bytes(self._name, partition, offset))
            decoded, next_offset = decode(data, partition, offset)
            # Only control batches (transaction markers) or compacted-away records: skip past them.
            if decoded.num_rows or next_offset <= offset:
                return decoded
            offset, data = next_offset, None

    def _take_prefetched(self, partition: int, offset: int) -> bytes | None:
        pending = self._prefetch.pop(partition, None)
        if pending is None:
            return None
        if pending[0] != offset:
            pending[1].cancel()
            return None
        try:
            return pending[1].result(self._store.request_timeout)
        except Exception:  # a failed read-ahead is simply redone in the foreground
            return None

    def _start_prefetch(self, partition: int, next_offset: int) -> None:
        pending = self._prefetch.get(partition)
        if pending is not None:
            if pending[0] == next_offset:
                return
            pending[1].cancel()  # read ahead of a range the reader has left
            del self._prefetch[partition]
        store = self._store
        coro = store._fetch_bytes(self._name, partition, next_offset, exact=True)
        future = store._loop.submit(_second(coro))
        self._prefetch[partition] = (next_offset, future)

    def end_offsets(self) -> list[int]:
        """The next offset to be written, per partition."""
        found = self._store._run(self._store._list_offsets(self._name, self._partitions, LATEST))
        return [found[p] for p in range(self._partitions)]

    def _drop(self) -> None:
        with self._lock:
            for _, future in self._prefetch.values():
                future.cancel()
            self._prefetch.clear()
            self._buffers.clear()


async def _second(coro: Awaitable[tuple[int, bytes]]) -> bytes:
    return (await coro)[1]

