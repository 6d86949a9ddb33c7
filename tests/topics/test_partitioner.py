"""Kafka default partitioner: murmur2 vectors from Kafka's own UtilsTest, placement, null keys."""

from __future__ import annotations

import pyarrow as pa
import pytest

from engine.topics.partitioner import RoundRobin, assign_partitions, murmur2, partition_for_keys

# org.apache.kafka.common.utils.UtilsTest#testMurmur2 (plus the empty key).
KAFKA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
    b"": 275646681,
}


def _reference(data: bytes) -> int:
    """A straight port of Java's Utils.murmur2, per record, to cross-check the vectorised one."""
    m, h = 0x5BD1E995, (0x9747B28C ^ len(data)) & 0xFFFFFFFF
    n4 = len(data) // 4
    for i in range(n4):
        k = int.from_bytes(data[4 * i : 4 * i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = ((h * m) & 0xFFFFFFFF) ^ k
    tail = data[4 * n4 :]
    if tail:
        for j in reversed(range(len(tail))):
            h ^= tail[j] << (8 * j)
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h >= 1 << 31 else h


def test_kafka_vectors() -> None:
    keys = pa.array(list(KAFKA_VECTORS), pa.binary())
    assert murmur2(keys).to_pylist() == list(KAFKA_VECTORS.values())


def test_each_vector_alone_uniform_length_path() -> None:
    for key, expected in KAFKA_VECTORS.items():
        assert murmur2(pa.array([key, key], pa.binary())).to_pylist() == [expected, expected]


def test_matches_reference_on_mixed_lengths_and_high_bytes() -> None:
    keys = [bytes((i * 37 + j * 101) % 256 for j in range(i % 23)) for i in range(500)]
    got = murmur2(pa.array(keys, pa.binary())).to_pylist()
    assert got == [_reference(k) for k in keys]


def test_sliced_input() -> None:
    keys = pa.array([b"xx", b"foobar", b"21", b"abc"], pa.binary()).slice(1, 3)
    assert murmur2(keys).to_pylist() == [-790332482, -973932308, 479470107]


def test_string_keys_hash_their_utf8_bytes() -> None:
    assert murmur2(pa.array(["foobar"])).to_pylist() == [-790332482]


def test_null_keys_hash_to_null() -> None:
    assert murmur2(pa.array([None, b"21"], pa.binary())).to_pylist() == [None, -973932308]


def test_partition_is_positive_hash_mod_count() -> None:
    # toPositive(-790332482) = 1357151166; 1357151166 % 50 = 16.
    assert partition_for_keys(pa.array([b"foobar"]), 50).to_pylist() == [16]
    keys = list(KAFKA_VECTORS)
    expected = [(v & 0x7FFFFFFF) % 7 for v in KAFKA_VECTORS.values()]
    assert partition_for_keys(pa.array(keys, pa.binary()), 7).to_pylist() == expected


def test_single_partition_skips_hashing() -> None:
    got = partition_for_keys(pa.array([b"a", b"bb"]), 1)
    assert got.type == pa.int32() and got.to_pylist() == [0, 0]


def test_null_keys_round_robin_and_keyed_keep_hash() -> None:
    rr = RoundRobin()
    keys = pa.array([b"foobar", None, None, None, b"21"], pa.binary())
    got = assign_partitions(keys, 3, rr).to_pylist()
    assert got[0] == (1357151166 % 3) and got[4] == ((-973932308 & 0x7FFFFFFF) % 3)
    assert got[1:4] == [0, 1, 2]
    # The counter continues across calls.
    assert assign_partitions(pa.array([None], pa.binary()), 3, rr).to_pylist() == [0]


@pytest.mark.parametrize("n", [0, 1, 10_000])
def test_sizes(n: int) -> None:
    keys = pa.array([b"k%d" % i for i in range(n)], pa.binary())
    got = partition_for_keys(keys, 12).to_pylist()
    assert got == [(_reference(b"k%d" % i) & 0x7FFFFFFF) % 12 for i in range(n)]
