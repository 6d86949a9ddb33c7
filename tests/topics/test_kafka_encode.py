"""The column-wise Kafka batch encoder against aiokafka's own record codec."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.record.util import encode_varint

from engine.topics.kafka_encode import HEADER_SIZE, encode_batches, varints


@pytest.mark.parametrize(
    "value", [0, 1, -1, 63, 64, -64, -65, 127, 128, 300, -300, 2**31, -(2**31), 2**62, -(2**63), 2**63 - 1]
)
def test_varints_match_kafkas_zigzag_encoding(value: int) -> None:
    expected = bytearray()
    encode_varint(value, expected.append)
    assert varints(np.array([value], np.int64))[0].as_py() == bytes(expected)


def _decode(batches: dict[int, list]) -> list[tuple]:
    rows = []
    for partition in sorted(batches):
        for batch in batches[partition]:
            batch._set_producer_state(5, 1, 7)
            data = bytes(batch._build())
            assert len(data) == batch.size()
            decoded = MemoryRecords(data).next_batch()
            assert decoded.validate_crc()
            assert (decoded.producer_id, decoded.producer_epoch, decoded.base_sequence) == (5, 1, 7)
            records = list(decoded)
            assert len(records) == batch.record_count() == decoded.last_offset_delta + 1
            assert decoded.max_timestamp == max(r.timestamp for r in records)
            rows += [(partition, r.timestamp, r.key, r.value, r.headers, r.offset) for r in records]
    return rows


def test_batches_decode_to_the_input_rows_per_partition_within_the_size_limit() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    partitions = pa.array(np.sort(rng.integers(0, 3, n)).astype(np.int32))
    stamps = pa.array(rng.integers(0, 2**41, n))  # unordered: negative timestamp deltas too
    keys = pa.array([None if i % 7 == 0 else bytes(rng.integers(0, 256, i % 20).astype(np.uint8)) for i in range(n)],
                    pa.binary())
    values = pa.array([None if i % 11 == 0 else b"x" * (i % 3000) for i in range(n)], pa.binary())
    limit = 200_000
    batches = encode_batches(partitions, stamps, keys, values, limit)
    assert sum(len(b) for b in batches.values()) > 3  # the limit split partitions
    assert all(b.size() <= limit for bs in batches.values() for b in bs)
    rows = _decode(batches)
    assert [r[:4] for r in rows] == list(zip(partitions.to_pylist(), stamps.to_pylist(), keys.to_pylist(),
                                             values.to_pylist(), strict=True))
    assert all(r[4] == [] for r in rows)
    # Offsets restart at 0 in every Kafka batch (the broker assigns the base offset).
    assert [r[5] for r in rows][:3] == [0, 1, 2]


def test_a_record_larger_than_the_limit_gets_a_batch_of_its_own() -> None:
    big = b"y" * 5000
    batches = encode_batches(pa.array([0, 0, 0], pa.int32()), pa.array([3, 2, 1], pa.int64()),
                             pa.array([b"a", b"b", b"c"]), pa.array([b"1", big, b"3"]), HEADER_SIZE + 1000)
    assert [b.record_count() for b in batches[0]] == [1, 1, 1]
    assert [r[3] for r in _decode(batches)] == [b"1", big, b"3"]
