"""One partition's log: record batches indexed by base offset, in memory or on disk.

On disk a partition is a directory of Arrow IPC files, one per appended batch, named
``<base offset, 20 digits>.<record count>.arrow`` so recovery needs only a directory listing.
A file is written under a temporary name and renamed into place, so a crash leaves either the
whole batch or nothing (a leftover ``*.tmp`` is deleted on open); earlier files are never
rewritten. With ``fsync`` the file and the directory are synced before ``append`` returns.
"""

from __future__ import annotations

import bisect
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from engine.topics.base import RAW_SCHEMA

_SUFFIX = ".arrow"
_TMP = ".tmp"

EMPTY_BATCH = pa.RecordBatch.from_arrays([pa.array([], f.type) for f in RAW_SCHEMA], schema=RAW_SCHEMA)


class SegmentCache:
    """LRU of segments loaded from disk, bounded by bytes, shared by a store's partitions."""

    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._used = 0
        self._items: OrderedDict[int, tuple[_Segment, int]] = OrderedDict()
        self._lock = threading.Lock()

    def touch(self, seg: _Segment) -> None:
        """Record a use of ``seg`` (already holding its batch), evicting the oldest if full."""
        key = id(seg)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return
            size = seg.batch.nbytes if seg.batch is not None else 0
            self._items[key] = (seg, size)
            self._used += size
            while self._used > self._max and len(self._items) > 1:
                _, (old, old_size) = self._items.popitem(last=False)
                old.batch = None  # disk segments reload on demand
                self._used -= old_size

    def forget(self, seg: _Segment) -> None:
        """Drop ``seg`` from the cache (its partition is being deleted)."""
        with self._lock:
            entry = self._items.pop(id(seg), None)
            if entry is not None:
                self._used -= entry[1]


@dataclass(slots=True)
class _Segment:
    base: int
    count: int
    batch: pa.RecordBatch | None
    path: Path | None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PartitionLog:
    """Append-only batches of one partition with offset lookup by bisect."""

    def __init__(self, directory: Path | None, cache: SegmentCache | None, fsync: bool) -> None:
        self._dir = directory
        self._cache = cache
        self._fsync = fsync
        self._segments: list[_Segment] = []
        self._bases: list[int] = []
        self.end = 0
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self._recover(directory)

    def _recover(self, directory: Path) -> None:
        """Index the segment files; drop temporaries and anything after a gap (never acked)."""
        found: list[tuple[int, int, Path]] = []
        for entry in directory.iterdir():
            if entry.name.endswith(_TMP):
                entry.unlink(missing_ok=True)
                continue
            parts = entry.name.split(".")
            if len(parts) == 3 and entry.name.endswith(_SUFFIX):
                found.append((int(parts[0]), int(parts[1]), entry))
        for base, count, path in sorted(found):
            if base != self.end:
                break  # a gap can only follow a lost write; later files would break offsets
            self._segments.append(_Segment(base, count, None, path))
            self._bases.append(base)
            self.end = base + count

    def append(self, batch: pa.RecordBatch) -> None:
        """Append ``batch`` (RAW_SCHEMA, offsets ``end..end+n-1`` already filled in)."""
        if batch.num_rows == 0:
            return
        seg = _Segment(self.end, batch.num_rows, batch, None)
        if self._dir is not None:
            seg.path = self._write(batch, self.end)
            if self._cache is not None:
                self._cache.touch(seg)
        self._segments.append(seg)
        self._bases.append(seg.base)
        self.end += batch.num_rows

    def _write(self, batch: pa.RecordBatch, base: int) -> Path:
        assert self._dir is not None
        final = self._dir / f"{base:020d}.{batch.num_rows}{_SUFFIX}"
        tmp = final.with_name(final.name + _TMP)
        with open(tmp, "wb") as raw:
            with pa.ipc.new_file(raw, RAW_SCHEMA) as writer:
                writer.write_batch(batch)
            if self._fsync:
                raw.flush()
                os.fsync(raw.fileno())
        os.replace(tmp, final)
        if self._fsync:
            _fsync_dir(self._dir)
        return final

    def _load(self, seg: _Segment) -> pa.RecordBatch:
        batch = seg.batch
        if batch is None:
            assert seg.path is not None
            data = pa.py_buffer(seg.path.read_bytes())
            batch = pa.ipc.open_file(data).get_batch(0)
            seg.batch = batch
        if self._cache is not None and seg.path is not None:
            self._cache.touch(seg)
        return batch

    def read(self, offset: int, max_records: int) -> pa.RecordBatch:
        """Records from ``offset`` on, at most ``max_records`` of them."""
        if offset >= self.end or max_records <= 0:
            return EMPTY_BATCH
        i = max(bisect.bisect_right(self._bases, max(offset, 0)) - 1, 0)
        pieces: list[pa.RecordBatch] = []
        wanted = max_records
        pos = max(offset, 0)
        segments = self._segments
        while wanted > 0 and i < len(segments):
            seg = segments[i]
            start = pos - seg.base
            take = min(seg.count - start, wanted)
            pieces.append(self._load(seg).slice(start, take))
            wanted -= take
            pos += take
            i += 1
        if len(pieces) == 1:
            return pieces[0]
        return pa.concat_batches(pieces)

    def drop(self) -> None:
        """Forget cached segments (the caller deletes the directory)."""
        if self._cache is not None:
            for seg in self._segments:
                self._cache.forget(seg)
        self._segments.clear()
        self._bases.clear()
