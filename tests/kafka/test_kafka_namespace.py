"""NamespacedStore: engines sharing one broker under different prefixes do not see each other."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pytest
from confluent_kafka.admin import AdminClient
from kafka_support import KafkaUnderTest, wait_for

from engine.topics.base import TopicConfig
from engine.topics.kafka import KafkaStore
from engine.topics.kafka_namespace import NamespacedStore

pytestmark = pytest.mark.kafka


def _one(value: bytes) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({"key": pa.array([b"k"]), "value": pa.array([value])})


def test_same_names_in_two_namespaces_are_separate(kafka: KafkaUnderTest, store: KafkaStore) -> None:
    run = uuid.uuid4().hex[:8]
    a, b = NamespacedStore(store, f"ns-{run}-a-"), NamespacedStore(store, f"ns-{run}-b-")
    try:
        ta = a.create_topic(TopicConfig("test_topic", partitions=2))
        tb = b.create_topic(TopicConfig("test_topic"))
        assert (ta.name, ta.partitions, tb.partitions) == ("test_topic", 2, 1)
        ta.produce(_one(b"from a"))
        assert a.list_topics() == ["test_topic"] and b.list_topics() == ["test_topic"]
        assert tb.end_offsets() == [0]
        assert b.topic("OUTPUT") is None and a.topic("test_topic") is not None
        a.commit("group", {("test_topic", 0): 1})
        assert a.committed("group", "test_topic") == {0: 1}
        assert b.committed("group", "test_topic") == {}
        assert f"ns-{run}-a-test_topic" in store.list_topics()
    finally:
        a.close()
        b.close()
    store.wait_background()
    wait_for(lambda: not [t for t in store.list_topics() if t.startswith(f"ns-{run}-")], 30,
             "the namespaces' topics to be deleted")
    admin = AdminClient({"bootstrap.servers": kafka.bootstrap})
    groups = [g.group_id for g in admin.list_consumer_groups().result(timeout=30).valid]
    assert not [g for g in groups if g.startswith(f"ns-{run}-")], "the namespaces' groups were not deleted"


def test_compaction_can_be_turned_off_for_test_drivers(store: KafkaStore) -> None:
    ns = NamespacedStore(store, f"ns-{uuid.uuid4().hex[:8]}-", compaction=False)
    try:
        table = ns.create_topic(TopicConfig("table_topic", compacted=True))
        keyless = pa.RecordBatch.from_pydict({"key": pa.array([None], pa.binary()), "value": pa.array([b"v"])})
        assert table.produce(keyless).num_rows == 1  # a compacted topic would reject it
    finally:
        ns.close()
