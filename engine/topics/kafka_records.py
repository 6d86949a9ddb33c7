"""Arrow record batches <-> Kafka record batches, for ``KafkaStore`` (see ``engine.topics.kafka``).

Produce side: a RAW_SCHEMA batch is normalised (binary key/value, int64 timestamps, partitions
from the murmur2 partitioner or the explicit column, headers), stably sorted by partition and
encoded into Kafka record batches column-wise (``kafka_encode``; aiokafka's ``BatchBuilder`` for
records with headers); after the broker acknowledges, each Kafka batch's base
offset plus the record index gives every record's offset. Fetch side: the bytes of a
FetchResponse are walked with aiokafka's C ``DefaultRecordBatch`` into flat lists, then Arrow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from aiokafka.record.memory_records import MemoryRecords

from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicError
from engine.topics.kafka_encode import encode_batches
from engine.topics.partitioner import RoundRobin, assign_partitions


@dataclass
class Rows:
    """A produce batch normalised and sorted by partition (stable: input order per partition)."""

    partition: pa.Array
    timestamp: pa.Array
    key: pa.Array
    value: pa.Array
    headers: pa.Array


def _column(batch: pa.RecordBatch, name: str) -> pa.Array | None:
    index = batch.schema.get_field_index(name)
    return None if index < 0 else batch.column(index)


def _binary(col: pa.Array | None, n: int) -> pa.Array:
    if col is None:
        return pa.nulls(n, pa.binary())
    return col if col.type == pa.binary() else col.cast(pa.binary())


def _timestamps(col: pa.Array | None, n: int) -> pa.Array:
    now = pa.scalar(time.time_ns() // 1_000_000, pa.int64())
    if col is None:
        return pa.repeat(now, n)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.timestamp("ms")).view(pa.int64())
    col = col.cast(pa.int64())
    return col.fill_null(now) if col.null_count else col


def _partitions(col: pa.Array | None, key: pa.Array, count: int, rr: RoundRobin, topic: str) -> pa.Array:
    """Explicit partitions where given (range-checked), Kafka's partitioner elsewhere."""
    if col is None or col.null_count == len(col):
        return assign_partitions(key, count, rr)
    col = col.cast(pa.int32())
    lo, hi = (v.as_py() for v in pc.min_max(col).values())
    if lo < 0 or hi >= count:
        bad = lo if lo < 0 else hi
        raise TopicError(f"Partition {bad} out of range for topic '{topic}' ({count} partitions)")
    if col.null_count == 0:
        return col
    missing = pc.is_null(col)
    return pc.replace_with_mask(col, missing, assign_partitions(key.filter(missing), count, rr))


def _headers(col: pa.Array | None, n: int) -> pa.Array:
    """Headers as HEADER_TYPE; an empty list becomes null (Kafka cannot tell them apart)."""
    if col is None or col.null_count == n:
        return pa.nulls(n, HEADER_TYPE)
    col = col.cast(HEADER_TYPE)
    empty = pc.fill_null(pc.equal(pc.list_value_length(col), 0), False)
    return pc.if_else(empty, pa.nulls(n, HEADER_TYPE), col)


def normalise(batch: pa.RecordBatch, count: int, rr: RoundRobin, topic: str) -> Rows:
    """A produce batch's columns in Kafka's terms, stably sorted by partition."""
    n = batch.num_rows
    key = _binary(_column(batch, "key"), n)
    headers = _column(batch, "headers")
    cols = [
        _partitions(_column(batch, "partition"), key, count, rr, topic),
        _timestamps(_column(batch, "timestamp"), n),
        key,
        _binary(_column(batch, "value"), n),
        _headers(headers, n),
    ]
    if count > 1:
        order = pc.sort_indices(cols[0]).cast(pa.int64())  # stable sort keeps per-partition order
        cols = [c.take(order) for c in cols]
    return Rows(*cols)


def build_batches(rows: Rows, new_builder: Callable[[], Any], limit: int) -> dict[int, list[Any]]:
    """Kafka record batches per partition, filled in row order, each at most ``limit`` bytes.

    Rows without headers (the usual case) are encoded column-wise (``kafka_encode``); rows with
    headers go through aiokafka's ``BatchBuilder``, a Python call per record.
    """
    if rows.headers.null_count == len(rows.headers):
        return encode_batches(rows.partition, rows.timestamp, rows.key, rows.value, limit)
    parts = rows.partition.to_pylist()
    keys, values, stamps = rows.key.to_pylist(), rows.value.to_pylist(), rows.timestamp.to_pylist()
    headers = [None if h is None else [(e["key"], e["value"]) for e in h] for h in rows.headers.to_pylist()]
    out: dict[int, list[Any]] = {}
    current: int = -1
    builder: Any = None
    for p, k, v, ts, h in zip(parts, keys, values, stamps, headers, strict=True):
        if p != current:
            current, builder = p, new_builder()
            out[p] = [builder]
        if builder.append(timestamp=ts, key=k, value=v, headers=h) is None:  # batch full
            builder = new_builder()
            out[p].append(builder)
            builder.append(timestamp=ts, key=k, value=v, headers=h)
    return out


def stored_batch(rows: Rows, builders: dict[int, list[Any]], bases: dict[int, list[int]]) -> pa.RecordBatch:
    """The produced rows with the offsets Kafka assigned (each batch: base offset + index)."""
    pieces = [
        pa.array(np.arange(base, base + builder.record_count(), dtype=np.int64))
        for p in sorted(builders)
        for builder, base in zip(builders[p], bases[p], strict=True)
    ]
    offsets = pa.concat_arrays(pieces)
    cols = [rows.partition, offsets, rows.timestamp, rows.key, rows.value, rows.headers]
    return pa.RecordBatch.from_arrays(cols, schema=RAW_SCHEMA)


def decode(data: bytes, partition: int, offset: int) -> tuple[pa.RecordBatch, int]:
    """Fetched record batches as one RAW_SCHEMA batch (records before ``offset`` dropped), and
    the offset after the last batch seen (past control batches and compaction gaps).

    aiokafka's C ``DefaultRecordBatch`` parses (and decompresses) each Kafka batch; we only pull
    the fields into flat lists. Header lists are kept only for records that have headers: holding
    one list object per record makes the cyclic GC rescan them and costs ~20% of the decode.
    Control batches (transaction markers) are skipped.
    """
    offs: list[int] = []
    stamps: list[int] = []
    keys: list[bytes | None] = []
    values: list[bytes | None] = []
    headed: list[tuple[int, list[tuple[str, bytes | None]]]] = []  # (row, headers), sparse
    add_o, add_t, add_k, add_v = offs.append, stamps.append, keys.append, values.append
    records = MemoryRecords(data)
    next_offset = offset
    while records.has_next():
        batch = records.next_batch()
        if batch is None:
            break
        next_offset = max(next_offset, batch.next_offset)
        if getattr(batch, "is_control_batch", False):
            continue
        partial = batch.base_offset < offset  # only the first batch may start before ``offset``
        for r in batch:
            if partial and r.offset < offset:
                continue
            add_o(r.offset)
            add_t(r.timestamp)
            add_k(r.key)
            add_v(r.value)
            if r.headers:
                headed.append((len(offs) - 1, r.headers))
    return _columns(partition, offs, stamps, keys, values, headed), next_offset


def _columns(
    partition: int,
    offs: list[int],
    stamps: list[int],
    keys: list[bytes | None],
    values: list[bytes | None],
    headed: list[tuple[int, list[tuple[str, bytes | None]]]],
) -> pa.RecordBatch:
    n = len(offs)
    header_col = pa.nulls(n, HEADER_TYPE)
    if headed:
        rows: list[list[dict[str, Any]] | None] = [None] * n
        for row, pairs in headed:
            rows[row] = [{"key": k, "value": v} for k, v in pairs]
        header_col = pa.array(rows, HEADER_TYPE)
    cols = [
        pa.repeat(pa.scalar(partition, pa.int32()), n),
        pa.array(offs, pa.int64()),
        pa.array(stamps, pa.int64()),
        pa.array(keys, pa.binary()),
        pa.array(values, pa.binary()),
        header_col,
    ]
    return pa.RecordBatch.from_arrays(cols, schema=RAW_SCHEMA)


def empty_batch() -> pa.RecordBatch:
    """A RAW_SCHEMA batch with no rows."""
    return pa.RecordBatch.from_pylist([], schema=RAW_SCHEMA)

