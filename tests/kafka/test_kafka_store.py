"""KafkaStore against a real broker: topics, produce/fetch round trip, offsets, groups."""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence

import pyarrow as pa
import pytest
from kafka_support import KafkaUnderTest

from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig, TopicError
from engine.topics.kafka import KafkaStore

pytestmark = pytest.mark.kafka

FAR_FUTURE = 253_402_300_799_000  # 9999-12-31T23:59:59Z, beyond Kafka 4's default 1 h skew limit
FAR_PAST = 1  # 1970-01-01T00:00:00.001Z


def _batch(
    values: Sequence[bytes | None],
    keys: Sequence[bytes | None] | None = None,
    timestamps: Sequence[int] | None = None,
    headers: Sequence[Sequence[tuple[str, bytes | None]] | None] | None = None,
) -> pa.RecordBatch:
    n = len(values)
    cols: dict[str, pa.Array] = {
        "key": pa.array(keys if keys is not None else [None] * n, pa.binary()),
        "value": pa.array(values, pa.binary()),
        "timestamp": pa.array(timestamps if timestamps is not None else range(1000, 1000 + n), pa.int64()),
    }
    if headers is not None:
        rows = [None if h is None else [{"key": k, "value": v} for k, v in h] for h in headers]
        cols["headers"] = pa.array(rows, HEADER_TYPE)
    return pa.RecordBatch.from_pydict(cols)


def _fetch_all(store: KafkaStore, name: str, partition: int, step: int = 10_000) -> pa.Table:
    topic = store.topic(name)
    assert topic is not None
    end = topic.end_offsets()[partition]
    batches, offset = [], 0
    while offset < end:
        got = topic.fetch(partition, offset, step)
        assert got.num_rows > 0, f"no records at {offset} < end {end}"
        batches.append(got)
        offset = got.column("offset")[-1].as_py() + 1
    return pa.Table.from_batches(batches, schema=RAW_SCHEMA)


def test_create_list_delete(store: KafkaStore, topic_name: str) -> None:
    topic = store.create_topic(TopicConfig(topic_name, partitions=3))
    assert topic.partitions == 3
    assert topic_name in store.list_topics()
    assert store.list_topics() == sorted(store.list_topics())
    assert not any(name.startswith("__") for name in store.list_topics())
    again = store.create_topic(TopicConfig(topic_name, partitions=5))  # existing count wins
    assert again.partitions == 3
    found = store.topic(topic_name)
    assert found is not None and found.partitions == 3
    store.delete_topic(topic_name)
    assert topic_name not in store.list_topics()
    assert store.topic(topic_name) is None
    store.delete_topic(topic_name)  # absent: no error


def test_compacted_topic_has_compact_policy(store: KafkaStore, topic_name: str) -> None:
    store.create_topic(TopicConfig(topic_name, partitions=2, compacted=True))
    admin_config = _topic_config(store.bootstrap, topic_name)
    assert admin_config["cleanup.policy"] == "compact"
    store.delete_topic(topic_name)


def _topic_config(bootstrap: str, name: str) -> dict[str, str]:
    """The topic's configs as another client (confluent-kafka's AdminClient) reports them."""
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    entries = admin.describe_configs([resource])[resource].result(timeout=30)
    return {key: entry.value for key, entry in entries.items()}


def test_invalid_topic_configs_are_errors(store: KafkaStore, topic_name: str) -> None:
    with pytest.raises(TopicError):
        store.create_topic(TopicConfig(topic_name, partitions=0))
    with pytest.raises(TopicError, match="replication"):
        store.create_topic(TopicConfig(topic_name, partitions=1, replicas=3))


def test_round_trip_keys_values_tombstones_timestamps_headers(store: KafkaStore, topic_name: str) -> None:
    topic = store.create_topic(TopicConfig(topic_name))
    batch = _batch(
        values=[b"v0", None, b"", b"v3", b"x" * 100_000],
        keys=[b"k0", b"k1", None, b"", b"big"],
        timestamps=[FAR_PAST, 0, FAR_FUTURE, 1_700_000_000_000, 42],
        headers=[None, [("a", b"1"), ("b", None)], [], [("a", b"2"), ("a", b"3")], None],
    )
    stored = topic.produce(batch)
    assert stored.schema == RAW_SCHEMA
    assert stored.column("offset").to_pylist() == [0, 1, 2, 3, 4]
    got = topic.fetch(0, 0)
    assert got.schema == RAW_SCHEMA
    assert got.to_pylist() == stored.to_pylist()
    assert got.column("value").to_pylist()[:3] == [b"v0", None, b""]
    assert got.column("timestamp").to_pylist()[:3] == [FAR_PAST, 0, FAR_FUTURE]
    assert got.column("headers").to_pylist()[1] == [{"key": "a", "value": b"1"}, {"key": "b", "value": None}]
    assert got.column("headers").to_pylist()[2] is None  # empty headers read back as none
    assert topic.end_offsets() == [5]


def test_missing_timestamps_become_now(store: KafkaStore, topic_name: str) -> None:
    topic = store.create_topic(TopicConfig(topic_name))
    before = int(time.time() * 1000)
    stored = topic.produce(pa.RecordBatch.from_pydict({"value": pa.array([b"a", b"b"], pa.binary())}))
    after = int(time.time() * 1000)
    assert all(before <= ts <= after for ts in stored.column("timestamp").to_pylist())
    assert topic.fetch(0, 0).column("timestamp").to_pylist() == stored.column("timestamp").to_pylist()


def test_fetch_offsets_limits_and_end(store: KafkaStore, topic_name: str) -> None:
    topic = store.create_topic(TopicConfig(topic_name))
    for i in range(5):
        topic.produce(_batch([b"%d" % i, b"%dx" % i]))
    assert topic.fetch(0, 3, max_records=4).column("offset").to_pylist() == [3, 4, 5, 6]
    assert topic.fetch(0, 7, max_records=4).column("offset").to_pylist() == [7, 8, 9]
    assert topic.fetch(0, 1, max_records=2).column("value").to_pylist() == [b"0x", b"1"]
    assert topic.fetch(0, 10).num_rows == 0
    assert topic.fetch(0, 99).schema == RAW_SCHEMA
    assert topic.fetch(0, 0, max_records=0).num_rows == 0
    topic.produce(_batch([b"late"]))  # a fetch at the end found nothing; new records must show up
    assert topic.fetch(0, 10).column("value").to_pylist() == [b"late"]
    with pytest.raises(TopicError, match="out of range"):
        topic.fetch(1, 0)


def test_sequential_small_fetches_match_one_big_read(store: KafkaStore, topic_name: str) -> None:
    topic = store.create_topic(TopicConfig(topic_name, partitions=2))
    n = 20_000
    keys = [b"key-%d" % (i % 97) for i in range(n)]
    topic.produce(_batch([b"value-%06d" % i for i in range(n)], keys, list(range(n))))
    for p in range(2):
        small = _fetch_all(store, topic_name, p, step=777)  # exercises buffering and read-ahead
        big = _fetch_all(store, topic_name, p)
        assert small.equals(big)
        assert small.column("offset").to_pylist() == list(range(topic.end_offsets()[p]))
    assert sum(topic.end_offsets()) == n


def test_explicit_partition_is_honoured(store: KafkaStore, topic_name: str) -> None:
    topic = store.create_topic(TopicConfig(topic_name, partitions=3))
    batch = _batch([b"a", b"b", b"c"], [b"same", b"same", b"same"])
    stored = topic.produce(batch.append_column("partition", pa.array([2, None, 0], pa.int32())))
    placed = {row["value"]: row["partition"] for row in stored.to_pylist()}
    assert placed[b"a"] == 2 and placed[b"c"] == 0
    assert topic.fetch(2, 0).column("value").to_pylist()[0] == b"a"
    assert topic.fetch(0, 0).column("value").to_pylist() == [b"c"]
    with pytest.raises(TopicError, match="out of range"):
        topic.produce(_batch([b"x"]).append_column("partition", pa.array([3], pa.int32())))


def test_order_is_kept_within_a_partition(store: KafkaStore, topic_name: str) -> None:
    topic = store.create_topic(TopicConfig(topic_name, partitions=4))
    n = 30_000  # several Kafka batches per partition
    values = [b"%08d" % i for i in range(n)]
    stored = topic.produce(_batch(values, [b"k%d" % (i % 13) for i in range(n)]))
    for p in range(4):
        got = _fetch_all(store, topic_name, p).column("value").to_pylist()
        mine = [row["value"] for row in stored.to_pylist() if row["partition"] == p]
        assert got == mine == sorted(got)


def test_group_offsets_survive_a_new_store(kafka: KafkaUnderTest, store: KafkaStore, topic_name: str) -> None:
    store.create_topic(TopicConfig(topic_name, partitions=3))
    group = f"g-{topic_name}"
    assert store.committed(group, topic_name) == {}
    store.commit(group, {(topic_name, 0): 5, (topic_name, 2): 7})
    store.commit(group, {(topic_name, 2): 9})
    with KafkaStore(kafka.bootstrap, client_id="other") as fresh:
        assert fresh.committed(group, topic_name) == {0: 5, 2: 9}
        assert fresh.committed(f"{group}-other", topic_name) == {}
        assert fresh.committed(group, "no-such-topic") == {}


def test_unknown_topic_operations_fail_fast(store: KafkaStore, topic_name: str) -> None:
    topic = store.create_topic(TopicConfig(topic_name))
    store.delete_topic(topic_name)
    began = time.monotonic()
    with pytest.raises(TopicError):
        topic.end_offsets()
    assert time.monotonic() - began < 10


def test_broker_down_at_start_is_a_clear_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    began = time.monotonic()
    with pytest.raises(TopicError, match=r"not reachable: gave up after \d+ attempts"):
        KafkaStore(f"127.0.0.1:{port}", connect_timeout=2.0)
    assert time.monotonic() - began < 10
