"""``KafkaTopic``: one topic of a ``KafkaStore`` (produce, buffered fetch with read-ahead, end offsets)."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Awaitable
from typing import TYPE_CHECKING

import aiokafka.errors as errors
import pyarrow as pa
import pyarrow.compute as pc

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
        self._buffers: dict[int, pa.RecordBatch] = {}  # decoded, not yet returned, per partition
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
            batch = self._take_buffered(partition, offset, max_records)
            if batch is None:
                batch = self._fetch_remote(partition, offset, max_records)
            if batch.num_rows:
                self._start_prefetch(partition, int(batch.column(1)[-1].as_py()) + 1)
            return batch

    def _take_buffered(self, partition: int, offset: int, max_records: int) -> pa.RecordBatch | None:
        buffered = self._buffers.pop(partition, None)
        if buffered is None or buffered.num_rows == 0:
            return None
        offsets = buffered.column(1)
        if not offsets[0].as_py() <= offset <= offsets[-1].as_py():
            return None
        start = int(pc.sum(pc.less(offsets, offset)).as_py() or 0)  # offsets ascend; gaps allowed
        return self._split(partition, buffered.slice(start), max_records)

    def _split(self, partition: int, batch: pa.RecordBatch, max_records: int) -> pa.RecordBatch:
        if batch.num_rows > max_records:
            self._buffers[partition] = batch.slice(max_records)
            return batch.slice(0, max_records)
        return batch

    def _fetch_remote(self, partition: int, offset: int, max_records: int) -> pa.RecordBatch:
        store = self._store
        data = self._take_prefetched(partition, offset)
        while True:
            if not data:  # no read-ahead, or it found nothing: records may have arrived since
                offset, data = store._run(store._fetch_bytes(self._name, partition, offset))
            decoded, next_offset = decode(data, partition, offset)
            # Only control batches (transaction markers) or compacted-away records: skip past them.
            if decoded.num_rows or next_offset <= offset:
                return self._split(partition, decoded, max_records)
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
        if partition in self._buffers or partition in self._prefetch:
            return
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

