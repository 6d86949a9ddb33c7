"""Kafka's default partitioner, vectorised over an Arrow binary array.

A keyed record goes to ``(murmur2(key) & 0x7fffffff) % partitions``, exactly as the Java client's
``BuiltInPartitioner.partitionForKey`` / ``Utils.murmur2`` (and librdkafka's ``murmur2_random``)
do, so records land on the same partitions whichever client wrote them.

Null keys: Kafka's Java client uses a "sticky" partition per batch for them; we use per-record
round-robin from a caller-held counter (``RoundRobin``), which spreads records evenly and is
deterministic for tests. Partitioning of null keys is not part of any compatibility contract.

The hash runs as Arrow compute kernels: keys are grouped by length (sorting by length when more
than one length occurs), and each group is hashed one 4-byte word column at a time, so the cost
is a few kernel calls per word of the longest key, never a Python step per record.
"""

from __future__ import annotations

import sys
import threading

import pyarrow as pa
import pyarrow.compute as pc

_SEED = 0x9747B28C
_M = 0x5BD1E995
_R = 24
_MASK31 = 0x7FFFFFFF

if sys.byteorder != "little":  # the word views below reinterpret bytes as little-endian uint32
    raise ImportError("engine.topics.partitioner needs a little-endian host")


class RoundRobin:
    """A thread-safe counter handing out partitions for null-key records in turn."""

    __slots__ = ("_next", "_lock")

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def take(self, count: int, partitions: int) -> pa.Array:
        """``count`` consecutive partitions (int32), continuing where the last call stopped."""
        with self._lock:
            start = self._next
            self._next = (start + count) % partitions
        seq = pa.array(range(start, start + count), pa.int64())
        return _mod(seq, partitions).cast(pa.int32())


def _u32(value: int) -> pa.Scalar:
    return pa.scalar(value, pa.uint32())


def _mix(h: pa.Array, k: pa.Array) -> pa.Array:
    """One murmur2 body step: ``k *= m; k ^= k >>> r; k *= m; h *= m; h ^= k``."""
    m = _u32(_M)
    k = pc.multiply(k, m)
    k = pc.bit_wise_xor(k, pc.shift_right(k, _u32(_R)))
    k = pc.multiply(k, m)
    return pc.bit_wise_xor(pc.multiply(h, m), k)


def _as_uint(chunk: pa.Array, width: int) -> pa.Array:
    """Reinterpret a binary array whose values are all ``width`` bytes long as unsigned ints."""
    _, offsets, data = chunk.buffers()
    first = pa.Array.from_buffers(pa.int32(), 1, [None, offsets], offset=chunk.offset)
    start = first[0].as_py()
    utype = pa.uint32() if width == 4 else pa.uint8()
    if data is None:  # only possible for an empty chunk
        return pa.array([], utype)
    body = data.slice(start, len(chunk) * width)
    return pa.Array.from_buffers(utype, len(chunk), [None, body]).cast(pa.uint32())


def _hash_uniform(keys: pa.Array, length: int) -> pa.Array:
    """murmur2 (as uint32) of non-null keys that are all ``length`` bytes long."""
    n = len(keys)
    h = pa.repeat(_u32(_SEED ^ length), n)
    words = length // 4
    for i in range(words):
        k = _as_uint(pc.binary_slice(keys, 4 * i, 4 * i + 4), 4)
        h = _mix(h, k)
    tail = length % 4
    if tail:
        base = words * 4
        for j in reversed(range(tail)):  # Java's switch fallthrough: byte 2, then 1, then 0
            b = _as_uint(pc.binary_slice(keys, base + j, base + j + 1), 1)
            h = pc.bit_wise_xor(h, pc.shift_left(b, _u32(8 * j)))
        h = pc.multiply(h, _u32(_M))
    h = pc.bit_wise_xor(h, pc.shift_right(h, _u32(13)))
    h = pc.multiply(h, _u32(_M))
    return pc.bit_wise_xor(h, pc.shift_right(h, _u32(15)))


def murmur2(keys: pa.Array) -> pa.Array:
    """Kafka's ``Utils.murmur2`` of each key, as int32 (the Java value); null keys give null.

    Args:
        keys: binary (or string) array.

    Returns:
        int32 array of hashes, aligned with ``keys``.
    """
    keys = _as_binary(keys)
    if keys.null_count:
        valid = pc.is_valid(keys)
        hashes = murmur2(keys.filter(valid))
        out = pa.nulls(len(keys), pa.int32())
        return pc.replace_with_mask(out, valid, hashes)
    return _hash_all(keys).view(pa.int32())


def _as_binary(keys: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    if not pa.types.is_binary(keys.type):
        keys = keys.cast(pa.binary())
    return keys


def _hash_all(keys: pa.Array) -> pa.Array:
    """uint32 murmur2 of non-null binary keys, grouping equal lengths so each group is uniform."""
    if len(keys) == 0:
        return pa.array([], pa.uint32())
    lengths = pc.binary_length(keys)
    lo, hi = pc.min_max(lengths).values()
    if lo.as_py() == hi.as_py():
        return _hash_uniform(keys, lo.as_py())
    order = pc.sort_indices(lengths).cast(pa.int64())
    sorted_keys = keys.take(order)
    runs = pc.run_end_encode(lengths.take(order))
    parts: list[pa.Array] = []
    start = 0
    for end, length in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        parts.append(_hash_uniform(sorted_keys.slice(start, end - start), length))
        start = end
    hashed = pa.concat_arrays(parts)
    return hashed.take(pc.inverse_permutation(order))


def _mod(values: pa.Array, divisor: int) -> pa.Array:
    """Non-negative ``values % divisor`` (Arrow compute has no modulo kernel)."""
    d = pa.scalar(divisor, values.type)
    return pc.subtract(values, pc.multiply(pc.divide(values, d), d))


def partition_for_keys(keys: pa.Array, partitions: int) -> pa.Array:
    """Kafka's partition for each non-null key: ``toPositive(murmur2(key)) % partitions``.

    Args:
        keys: binary array without nulls.
        partitions: partition count (>= 1).

    Returns:
        int32 partitions aligned with ``keys``.
    """
    if partitions == 1:  # nothing to choose: skip hashing entirely
        return pa.repeat(pa.scalar(0, pa.int32()), len(keys))
    positive = pc.bit_wise_and(_hash_all(_as_binary(keys)), _u32(_MASK31)).cast(pa.int64())
    return _mod(positive, partitions).cast(pa.int32())


def assign_partitions(keys: pa.Array, partitions: int, round_robin: RoundRobin) -> pa.Array:
    """Partitions for a batch: murmur2 for keyed records, round-robin for null keys."""
    keys = _as_binary(keys)
    if partitions == 1:
        return partition_for_keys(keys, 1)
    if keys.null_count == 0:
        return partition_for_keys(keys, partitions)
    valid = pc.is_valid(keys)
    out = round_robin.take(len(keys) - int(pc.sum(valid).as_py() or 0), partitions)
    # Fill keyed slots first (mask order), then spread null keys over the remaining slots.
    keyed = partition_for_keys(keys.filter(valid), partitions)
    result = pc.replace_with_mask(pa.nulls(len(keys), pa.int32()), valid, keyed)
    return pc.replace_with_mask(result, pc.invert(valid), out)
