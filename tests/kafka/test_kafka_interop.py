"""Placement interop: keyed records land on the same partitions whichever client writes them.

The independent client is confluent-kafka (librdkafka) with ``partitioner=murmur2_random``, the
Java client's default keyed placement (``toPositive(murmur2(key)) % partitions``).
"""

from __future__ import annotations

import random

import pyarrow as pa
import pytest
from kafka_support import KafkaUnderTest, wait_for

from engine.topics.base import TopicConfig
from engine.topics.kafka import KafkaStore
from engine.topics.partitioner import partition_for_keys

pytestmark = pytest.mark.kafka

PARTITIONS = 7


def _keys(n: int) -> list[bytes]:
    rng = random.Random(20240601)
    keys = [b"user-%d" % i for i in range(n // 2)]
    keys += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))) for _ in range(n - len(keys))]
    return keys


def _produce_with_librdkafka(bootstrap: str, topic: str, keys: list[bytes]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "acks": "all"})
    failures: list[str] = []

    def on_delivery(err: object, _msg: object) -> None:
        if err is not None:
            failures.append(str(err))

    for key in keys:
        producer.produce(topic, value=b"from-librdkafka", key=key, on_delivery=on_delivery)
    assert producer.flush(30) == 0, "librdkafka did not deliver every record within 30 s"
    assert not failures, failures


def _placement(store: KafkaStore, topic: str, source: bytes) -> dict[bytes, set[int]]:
    found: dict[bytes, set[int]] = {}
    handle = store.topic(topic)
    assert handle is not None
    for p, end in enumerate(handle.end_offsets()):
        offset = 0
        while offset < end:
            batch = handle.fetch(p, offset)
            for row in batch.to_pylist():
                if row["value"] == source:
                    found.setdefault(row["key"], set()).add(p)
            offset = batch.column("offset")[-1].as_py() + 1
    return found


def test_librdkafka_keyed_records_land_where_our_partitioner_says(
    kafka: KafkaUnderTest, store: KafkaStore, topic_name: str
) -> None:
    keys = _keys(2000)
    store.create_topic(TopicConfig(topic_name, partitions=PARTITIONS))
    _produce_with_librdkafka(kafka.bootstrap, topic_name, keys)
    expected = partition_for_keys(pa.array(keys, pa.binary()), PARTITIONS).to_pylist()
    placed = _placement(store, topic_name, b"from-librdkafka")
    assert {k: {p} for k, p in zip(keys, expected, strict=True)} == placed
    assert len(set(expected)) == PARTITIONS  # the keys really spread over every partition


def test_our_produce_places_keys_like_librdkafka(
    kafka: KafkaUnderTest, store: KafkaStore, topic_name: str
) -> None:
    keys = _keys(1000)
    topic = store.create_topic(TopicConfig(topic_name, partitions=PARTITIONS))
    _produce_with_librdkafka(kafka.bootstrap, topic_name, keys)
    n = len(keys)
    topic.produce(
        pa.RecordBatch.from_pydict(
            {"key": pa.array(keys, pa.binary()), "value": pa.array([b"from-streamsql"] * n, pa.binary())}
        )
    )
    assert _placement(store, topic_name, b"from-streamsql") == _placement(
        store, topic_name, b"from-librdkafka"
    )


def test_fetch_skips_transaction_markers(kafka: KafkaUnderTest, store: KafkaStore, topic_name: str) -> None:
    from confluent_kafka import Producer

    topic = store.create_topic(TopicConfig(topic_name))
    producer = Producer({"bootstrap.servers": kafka.bootstrap, "transactional.id": f"tx-{topic_name}"})
    producer.init_transactions(30)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic_name, value=b"tx-%d" % i, partition=0)
    producer.commit_transaction(30)  # offsets 0-2, then a commit marker at offset 3
    del producer
    # The coordinator writes the marker after EndTxn returns; wait for it before appending more.
    wait_for(lambda: topic.end_offsets() == [4], 30, "the transaction's commit marker")
    topic.produce(pa.RecordBatch.from_pydict({"value": pa.array([b"after"], pa.binary())}))
    assert topic.end_offsets() == [5]
    assert topic.fetch(0, 0).column("value").to_pylist() == [b"tx-0", b"tx-1", b"tx-2", b"after"]
    after_marker = topic.fetch(0, 3)  # the marker's own offset: the next real record comes back
    assert after_marker.column("offset").to_pylist() == [4]
