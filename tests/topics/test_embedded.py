"""Embedded log: produce/fetch/offsets/commit, in memory and on disk, restart survival."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pytest

from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig, TopicError
from engine.topics.embedded import EmbeddedStore
from engine.topics.partitioner import partition_for_keys


def _batch(
    values: list[bytes | None], keys: list[bytes | None] | None = None, ts: int = 1000
) -> pa.RecordBatch:
    n = len(values)
    return pa.RecordBatch.from_pydict(
        {
            "key": pa.array(keys if keys is not None else [None] * n, pa.binary()),
            "value": pa.array(values, pa.binary()),
            "timestamp": pa.array([ts + i for i in range(n)], pa.int64()),
        }
    )


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(None if request.param == "memory" else tmp_path / "data")


def test_produce_then_fetch(store: EmbeddedStore) -> None:
    topic = store.create_topic(TopicConfig("t"))
    stored = topic.produce(_batch([b"a", b"b", None]))
    assert stored.schema == RAW_SCHEMA
    assert stored.column("offset").to_pylist() == [0, 1, 2]
    assert stored.column("partition").to_pylist() == [0, 0, 0]
    topic.produce(_batch([b"c"]))
    got = topic.fetch(0, 1)
    assert got.schema == RAW_SCHEMA
    assert got.column("value").to_pylist() == [b"b", None, b"c"]
    assert got.column("offset").to_pylist() == [1, 2, 3]
    assert got.column("timestamp").to_pylist() == [1001, 1002, 1000]
    assert topic.end_offsets() == [4]


def test_fetch_limits_and_past_end(store: EmbeddedStore) -> None:
    topic = store.create_topic(TopicConfig("t"))
    for i in range(5):
        topic.produce(_batch([b"%d" % i, b"%dx" % i]))
    assert topic.fetch(0, 3, max_records=4).column("offset").to_pylist() == [3, 4, 5, 6]
    assert topic.fetch(0, 10).num_rows == 0
    assert topic.fetch(0, 99).schema == RAW_SCHEMA
    assert topic.fetch(0, 0, max_records=0).num_rows == 0


def test_keyed_records_follow_kafka_partitioner(store: EmbeddedStore) -> None:
    topic = store.create_topic(TopicConfig("t", partitions=4))
    keys = [b"k%d" % i for i in range(100)]
    topic.produce(_batch([b"v"] * 100, keys))
    expected = partition_for_keys(pa.array(keys, pa.binary()), 4).to_pylist()
    for p in range(4):
        got = topic.fetch(p, 0).column("key").to_pylist()
        assert got == [k for k, e in zip(keys, expected, strict=True) if e == p]
    assert sum(topic.end_offsets()) == 100


def test_explicit_partition_and_range_check(store: EmbeddedStore) -> None:
    topic = store.create_topic(TopicConfig("t", partitions=2))
    batch = _batch([b"a", b"b"]).append_column("partition", pa.array([1, None], pa.int32()))
    stored = topic.produce(batch)
    assert topic.fetch(1, 0).column("value").to_pylist()[0] == b"a"
    assert stored.num_rows == 2
    with pytest.raises(TopicError, match="out of range"):
        topic.produce(_batch([b"x"]).append_column("partition", pa.array([2], pa.int32())))
    with pytest.raises(TopicError):
        topic.fetch(5, 0)


def test_headers_and_missing_columns(store: EmbeddedStore) -> None:
    topic = store.create_topic(TopicConfig("t"))
    headers = pa.array([[{"key": "h", "value": b"1"}], None], HEADER_TYPE)
    topic.produce(pa.RecordBatch.from_pydict({"value": pa.array([b"a", b"b"]), "headers": headers}))
    got = topic.fetch(0, 0)
    assert got.column("headers").to_pylist() == [[{"key": "h", "value": b"1"}], None]
    assert got.column("key").null_count == 2
    assert got.column("timestamp").null_count == 0


def test_string_columns_are_cast_to_binary(store: EmbeddedStore) -> None:
    topic = store.create_topic(TopicConfig("t"))
    topic.produce(pa.RecordBatch.from_pydict({"key": pa.array(["k"]), "value": pa.array(["v"])}))
    assert topic.fetch(0, 0).column("value").to_pylist() == [b"v"]


def test_topics_create_list_delete(store: EmbeddedStore) -> None:
    a = store.create_topic(TopicConfig("b", partitions=3))
    again = store.create_topic(TopicConfig("b", partitions=5))
    assert again is a and again.partitions == 3
    store.create_topic(TopicConfig("a"))
    assert store.list_topics() == ["a", "b"]
    assert store.topic("B") is None
    a.produce(_batch([b"x"]))
    store.delete_topic("b")
    store.delete_topic("b")
    assert store.list_topics() == ["a"]
    with pytest.raises(TopicError):
        a.produce(_batch([b"y"]))
    fresh = store.create_topic(TopicConfig("b"))
    assert fresh.end_offsets() == [0]


def test_bad_partition_count(store: EmbeddedStore) -> None:
    with pytest.raises(TopicError):
        store.create_topic(TopicConfig("t", partitions=0))


def test_commit_and_committed(store: EmbeddedStore) -> None:
    store.commit("g", {("t", 0): 5, ("t", 1): 7, ("u", 0): 1})
    store.commit("g", {("t", 0): 6})
    assert store.committed("g", "t") == {0: 6, 1: 7}
    assert store.committed("g", "u") == {0: 1}
    assert store.committed("other", "t") == {}


def test_disk_restart_survival(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    topic = store.create_topic(TopicConfig("weird/name.x", partitions=2, compacted=True))
    topic.produce(_batch([b"a", b"b"], [b"k1", b"k2"]))
    topic.produce(_batch([b"c"], [b"k1"]))
    store.commit("grp/1", {("weird/name.x", 0): 2})
    before = [topic.fetch(p, 0) for p in range(2)]
    store.close()

    reopened = EmbeddedStore(tmp_path)
    again = reopened.topic("weird/name.x")
    assert again is not None and again.partitions == 2 and again.config.compacted
    assert [again.fetch(p, 0) for p in range(2)] == before
    assert reopened.committed("grp/1", "weird/name.x") == {0: 2}
    again.produce(_batch([b"d"], [b"k1"]))
    assert sum(again.end_offsets()) == 4


def test_disk_ignores_torn_writes_and_gaps(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    topic = store.create_topic(TopicConfig("t"))
    topic.produce(_batch([b"a", b"b"]))
    part_dir = next((tmp_path / "topics").iterdir()) / "0"
    (part_dir / "00000000000000000002.1.arrow.tmp").write_bytes(b"torn")  # crash mid-write
    (part_dir / "00000000000000000009.1.arrow").write_bytes(b"orphan")  # after a gap
    reopened = EmbeddedStore(tmp_path).topic("t")
    assert reopened is not None
    assert reopened.end_offsets() == [2]
    assert reopened.fetch(0, 0).column("value").to_pylist() == [b"a", b"b"]
    assert not (part_dir / "00000000000000000002.1.arrow.tmp").exists()


def test_deleted_topic_stays_deleted_after_restart(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.create_topic(TopicConfig("t")).produce(_batch([b"a"]))
    store.delete_topic("t")
    assert EmbeddedStore(tmp_path).list_topics() == []


def test_fsync_mode_and_small_cache(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, fsync=True, cache_bytes=1)
    topic = store.create_topic(TopicConfig("t"))
    for i in range(5):
        topic.produce(_batch([b"%d" % i]))
    assert topic.fetch(0, 0).column("value").to_pylist() == [b"0", b"1", b"2", b"3", b"4"]
    assert topic.fetch(0, 2, 2).column("value").to_pylist() == [b"2", b"3"]


def test_reader_thread_sees_consistent_prefixes() -> None:
    store = EmbeddedStore(None)
    topic = store.create_topic(TopicConfig("t"))
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        offset = 0
        while not done.is_set() or offset < topic.end_offsets()[0]:
            batch = topic.fetch(0, offset, 100)
            seen.extend(batch.column("offset").to_pylist())
            offset += batch.num_rows

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200):
        topic.produce(_batch([b"%d" % i] * 10))
    done.set()
    reader.join()
    assert seen == list(range(2000))
