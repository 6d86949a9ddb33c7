"""The embedded log: topics in a local directory, or purely in memory.

``EmbeddedStore(path)`` keeps each topic under ``<path>/topics/<quoted name>/`` (``topic.json``
holds its config, one directory per partition holds its segments, see ``segments.py``) and each
consumer group's committed offsets in ``<path>/groups/<quoted group>.json``. ``EmbeddedStore(None)``
keeps everything in memory; creating a store or a topic then costs microseconds.

Durability (disk mode):
- A produced batch is appended per partition as one new file, written to a temporary name and
  renamed into place: after a crash each partition holds a prefix of what was produced, never a
  torn batch, and earlier records are untouched. A produce spanning several partitions is atomic
  per partition only (as in Kafka).
- ``fsync=False`` (default): survives process crashes; an OS crash or power loss may lose the
  most recent batches. ``fsync=True``: the file and its directory are fsynced before ``produce``
  returns, so an acknowledged batch survives power loss.
- Config and committed offsets are written with the same temp-file + ``os.replace`` scheme
  (always fsynced: they are small and rare).
- Compaction (``compacted=True``) is recorded, not performed: a compacted topic keeps every record,
  which reads the same way for a consumer that applies updates in order.

Concurrency: one store-wide lock serialises produce, topic changes and fetch bookkeeping; one
writer plus any number of reader threads in one process is supported. Two processes must not
open the same directory.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig, TopicError
from engine.topics.partitioner import RoundRobin, assign_partitions
from engine.topics.segments import EMPTY_BATCH, PartitionLog, SegmentCache

_CONFIG_FILE = "topic.json"
_DEFAULT_CACHE_BYTES = 256 * 1024 * 1024


def _dir_name(name: str) -> str:
    """File-system-safe, reversible name (a prefix keeps '.' and '..' harmless)."""
    return "t" + quote(name, safe="")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _column(batch: pa.RecordBatch, name: str) -> pa.Array | None:
    index = batch.schema.get_field_index(name)
    return None if index < 0 else batch.column(index)


class EmbeddedTopic:
    """A topic of the embedded log (see the module docstring); implements ``Topic``."""

    def __init__(self, config: TopicConfig, logs: list[PartitionLog], lock: threading.RLock) -> None:
        self._config = config
        self._logs = logs
        self._lock = lock
        self._round_robin = RoundRobin()
        self._deleted = False

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def partitions(self) -> int:
        return len(self._logs)

    @property
    def config(self) -> TopicConfig:
        """The config the topic was created with."""
        return self._config

    def produce(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Append records and return them as stored, partition and offset filled in.

        The result is grouped by partition (ascending), input order kept within a partition
        (a single-partition topic returns input order); reordering to input order would cost a
        full copy of the batch. Missing ``timestamp`` values become the current wall-clock time;
        missing columns are null.
        """
        if batch.num_rows == 0:
            return EMPTY_BATCH
        if batch.get_total_buffer_size() > 2 * batch.nbytes + 65536:
            # A slice of a larger batch shares its parent's buffers, and the IPC writer would
            # store them whole (a 50-record slice of 100k records took 745 KB): compact it first.
            batch = batch.take(pa.array(range(batch.num_rows), pa.int64()))
        key = self._binary(_column(batch, "key"), batch.num_rows)
        value = self._binary(_column(batch, "value"), batch.num_rows)
        headers = _column(batch, "headers")
        headers = pa.nulls(batch.num_rows, HEADER_TYPE) if headers is None else headers.cast(HEADER_TYPE)
        timestamp = self._timestamps(_column(batch, "timestamp"), batch.num_rows)
        with self._lock:
            self._check_live()
            parts = self._partitions(_column(batch, "partition"), key)
            return self._append(parts, timestamp, key, value, headers)

    def _check_live(self) -> None:
        if self._deleted:
            raise TopicError(f"Topic '{self.name}' has been deleted")

    @staticmethod
    def _binary(col: pa.Array | None, n: int) -> pa.Array:
        if col is None:
            return pa.nulls(n, pa.binary())
        return col if col.type == pa.binary() else col.cast(pa.binary())

    @staticmethod
    def _timestamps(col: pa.Array | None, n: int) -> pa.Array:
        now = pa.scalar(time.time_ns() // 1_000_000, pa.int64())
        if col is None:
            return pa.repeat(now, n)
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.timestamp("ms")).view(pa.int64())
        col = col.cast(pa.int64())
        return col.fill_null(now) if col.null_count else col

    def _partitions(self, col: pa.Array | None, key: pa.Array) -> pa.Array:
        count = len(self._logs)
        if col is not None and col.null_count < len(col):
            col = col.cast(pa.int32())
            lo, hi = pc.min_max(col).values()
            if lo.as_py() < 0 or hi.as_py() >= count:
                bad = lo.as_py() if lo.as_py() < 0 else hi.as_py()
                raise TopicError(f"Partition {bad} out of range for topic '{self.name}' ({count} partitions)")
            if col.null_count == 0:
                return col
            valid = pc.is_valid(col)
            chosen = assign_partitions(key.filter(pc.invert(valid)), count, self._round_robin)
            return pc.replace_with_mask(col, pc.invert(valid), chosen)
        return assign_partitions(key, count, self._round_robin)

    def _append(self, parts: pa.Array, *cols: pa.Array) -> pa.RecordBatch:
        if len(self._logs) == 1:
            return self._append_one(0, parts, *cols)
        order = pc.sort_indices(parts).cast(pa.int64())  # stable: keeps per-partition order
        sorted_parts = parts.take(order)
        sorted_cols = [c.take(order) for c in cols]
        runs = pc.run_end_encode(sorted_parts)
        stored: list[pa.RecordBatch] = []
        start = 0
        for end, p in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
            piece = [c.slice(start, end - start) for c in sorted_cols]
            stored.append(self._append_one(p, sorted_parts.slice(start, end - start), *piece))
            start = end
        return stored[0] if len(stored) == 1 else pa.concat_batches(stored)

    def _append_one(self, p: int, parts: pa.Array, *cols: pa.Array) -> pa.RecordBatch:
        log = self._logs[p]
        offsets = pa.array(np.arange(log.end, log.end + len(parts), dtype=np.int64))
        stored = pa.RecordBatch.from_arrays([parts, offsets, *cols], schema=RAW_SCHEMA)
        log.append(stored)
        return stored

    def fetch(self, partition: int, offset: int, max_records: int = 10_000) -> pa.RecordBatch:
        """Records of ``partition`` from ``offset`` on (at most ``max_records``), RAW_SCHEMA."""
        with self._lock:
            self._check_live()
            if not 0 <= partition < len(self._logs):
                raise TopicError(f"Partition {partition} out of range for topic '{self.name}'")
            return self._logs[partition].read(offset, max_records)

    def end_offsets(self) -> list[int]:
        """The next offset to be written, per partition."""
        with self._lock:
            return [log.end for log in self._logs]

    def _drop(self) -> None:
        self._deleted = True
        for log in self._logs:
            log.drop()


class EmbeddedStore:
    """A ``TopicStore`` in a local directory (``path``) or in memory (``path=None``)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        *,
        fsync: bool = False,
        cache_bytes: int = _DEFAULT_CACHE_BYTES,
    ) -> None:
        """Open (or create) a store.

        Args:
            path: data directory, or None for a pure in-memory store.
            fsync: fsync every produced batch (see the module docstring for the guarantee).
            cache_bytes: bound on segment bytes kept in memory after reading them from disk.
        """
        self._root = None if path is None else Path(path)
        self._fsync = fsync
        self._lock = threading.RLock()
        self._topics: dict[str, EmbeddedTopic] = {}
        self._groups: dict[str, dict[tuple[str, int], int]] = {}
        self._cache = None if self._root is None else SegmentCache(cache_bytes)
        if self._root is not None:
            self._open(self._root)

    def _open(self, root: Path) -> None:
        (root / "topics").mkdir(parents=True, exist_ok=True)
        (root / "groups").mkdir(exist_ok=True)
        for entry in sorted((root / "topics").iterdir()):
            if entry.name.startswith(".deleted-"):
                shutil.rmtree(entry, ignore_errors=True)  # a delete interrupted by a crash
            elif (entry / _CONFIG_FILE).is_file():
                config = TopicConfig(**orjson.loads((entry / _CONFIG_FILE).read_bytes()))
                self._topics[config.name] = self._make_topic(config, entry)
        for entry in (root / "groups").iterdir():
            if entry.name.endswith(".json"):
                rows = orjson.loads(entry.read_bytes())
                self._groups[unquote(entry.name[1:-5])] = {(t, p): o for t, p, o in rows}

    def _make_topic(self, config: TopicConfig, directory: Path | None) -> EmbeddedTopic:
        logs = [
            PartitionLog(None if directory is None else directory / str(p), self._cache, self._fsync)
            for p in range(config.partitions)
        ]
        return EmbeddedTopic(config, logs, self._lock)

    def create_topic(self, config: TopicConfig) -> EmbeddedTopic:
        """Create a topic (or return the existing one, whose partition count wins)."""
        if config.partitions < 1:
            raise TopicError(f"Invalid partition count {config.partitions} for topic '{config.name}'")
        with self._lock:
            existing = self._topics.get(config.name)
            if existing is not None:
                return existing
            directory = None
            if self._root is not None:
                directory = self._root / "topics" / _dir_name(config.name)
                directory.mkdir(parents=True, exist_ok=True)
                fields = {
                    "name": config.name,
                    "partitions": config.partitions,
                    "replicas": config.replicas,
                    "compacted": config.compacted,
                }
                _atomic_write(directory / _CONFIG_FILE, orjson.dumps(fields))
            topic = self._make_topic(config, directory)
            self._topics[config.name] = topic
            return topic

    def topic(self, name: str) -> EmbeddedTopic | None:
        """The topic called ``name`` (case-sensitive), or None."""
        return self._topics.get(name)

    def list_topics(self) -> list[str]:
        """Names of all topics, sorted."""
        with self._lock:
            return sorted(self._topics)

    def delete_topic(self, name: str) -> None:
        """Delete a topic and its records; no error if absent."""
        with self._lock:
            topic = self._topics.pop(name, None)
            if topic is None:
                return
            topic._drop()
            if self._root is not None:
                directory = self._root / "topics" / _dir_name(name)
                # Rename first so a crash mid-delete never leaves a half-deleted live topic.
                trash = directory.with_name(f".deleted-{uuid.uuid4().hex}")
                os.replace(directory, trash)
                shutil.rmtree(trash, ignore_errors=True)

    def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """Store committed offsets (next offset to read) for ``group``, keyed (topic, partition)."""
        with self._lock:
            current = dict(self._groups.get(group, {}))
            current.update(offsets)
            if self._root is not None:
                rows = [[t, p, o] for (t, p), o in sorted(current.items())]
                _atomic_write(self._root / "groups" / f"g{quote(group, safe='')}.json", orjson.dumps(rows))
            self._groups[group] = current

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """Committed offsets of ``group`` for ``topic``: partition -> next offset to read."""
        with self._lock:
            stored = self._groups.get(group, {})
            return {p: o for (t, p), o in stored.items() if t == topic}

    def close(self) -> None:
        """Nothing to flush: every produce and commit is already on disk when it returns."""
