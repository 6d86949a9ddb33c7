"""A namespaced view of a ``KafkaStore``: many isolated engines on one broker.

``NamespacedStore(store, prefix)`` is a ``TopicStore`` whose topic and consumer-group names are
stored on the broker as ``prefix + name`` while the engine above it sees only the plain names.
Conformance runs use one per test case: every ksqlDB test reuses names like ``test_topic``,
``OUTPUT`` and ``default_ksql_processing_log``, and the queries' consumer groups are named after
the query id (``..._query_CSAS_OUTPUT_0``), so without a prefix one case would read the previous
case's records and committed offsets. ``close()`` starts deleting the namespace's topics and
groups in the background (one request each; nobody reuses the prefix, so nothing waits for it)
and leaves the shared ``KafkaStore`` open.
"""

from __future__ import annotations

import threading

import pyarrow as pa

from engine.topics.base import TopicConfig, TopicError
from engine.topics.kafka import KafkaStore, KafkaTopic

# Kafka's limit on topic name length; a prefixed name must stay within it.
MAX_TOPIC_NAME = 249


class NamespacedTopic:
    """A ``KafkaTopic`` presented under its un-prefixed name; implements ``Topic``."""

    def __init__(self, inner: KafkaTopic, name: str) -> None:
        self._inner = inner
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def partitions(self) -> int:
        return self._inner.partitions

    @property
    def kafka_name(self) -> str:
        """The topic's real name on the broker."""
        return self._inner.name

    def produce(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Append records and return them as stored (see ``Topic.produce``)."""
        return self._inner.produce(batch)

    def fetch(self, partition: int, offset: int, max_records: int = 10_000) -> pa.RecordBatch:
        """Records of ``partition`` from ``offset`` on (at most ``max_records``), RAW_SCHEMA."""
        return self._inner.fetch(partition, offset, max_records)

    def end_offsets(self) -> list[int]:
        """The next offset to be written, per partition."""
        return self._inner.end_offsets()


class NamespacedStore:
    """A ``TopicStore`` over a shared ``KafkaStore`` with every name under ``prefix``.

    Args:
        store: the shared store (not closed by ``close``).
        prefix: prepended to topic and group names on the broker; it should be unique to this
            namespace and use only Kafka's topic characters (``[a-zA-Z0-9._-]``).
        cleanup: delete the namespace's topics and consumer groups on ``close``.
        compaction: honour ``TopicConfig.compacted``. Conformance runs turn it off: ksqlDB's
            test driver has no broker, so its inputs include records without a key for tables,
            which a compacted Kafka topic rejects (and nothing is compacted within a test anyway).
    """

    def __init__(
        self, store: KafkaStore, prefix: str, *, cleanup: bool = True, compaction: bool = True
    ) -> None:
        self.store = store
        self.prefix = prefix
        self.cleanup = cleanup
        self.compaction = compaction
        self._groups: set[str] = set()
        self._created: set[str] = set()  # real names of topics created through this view
        self._lock = threading.Lock()
        self._closed = False

    def _real(self, name: str) -> str:
        real = self.prefix + name
        if len(real) > MAX_TOPIC_NAME:
            raise TopicError(f"Topic name '{name}' is too long for the namespace '{self.prefix}'")
        return real

    def _wrap(self, inner: KafkaTopic, name: str) -> NamespacedTopic:
        return NamespacedTopic(inner, name)

    def create_topic(self, config: TopicConfig) -> NamespacedTopic:
        """Create ``prefix + name`` (or return the existing one, whose partition count wins)."""
        real = self._real(config.name)
        with self._lock:
            self._created.add(real)
        inner = self.store.create_topic(
            TopicConfig(real, config.partitions, config.replicas, config.compacted and self.compaction)
        )
        return self._wrap(inner, config.name)

    def topic(self, name: str) -> NamespacedTopic | None:
        """The topic called ``name`` in this namespace, or None."""
        inner = self.store.topic(self._real(name))
        return None if inner is None else self._wrap(inner, name)

    def list_topics(self) -> list[str]:
        """Names of this namespace's topics (prefix removed), sorted."""
        n = len(self.prefix)
        return sorted(t[n:] for t in self.store.list_topics() if t.startswith(self.prefix))

    def delete_topic(self, name: str) -> None:
        """Delete the topic ``name`` of this namespace; no error if absent."""
        self.store.delete_topic(self._real(name))

    def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """Store committed offsets of ``prefix + group`` for this namespace's topics."""
        with self._lock:
            self._groups.add(self.prefix + group)
        self.store.commit(
            self.prefix + group, {(self._real(t), p): o for (t, p), o in offsets.items()}
        )

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """Committed offsets of ``prefix + group`` for ``prefix + topic``."""
        return self.store.committed(self.prefix + group, self._real(topic))

    def close(self) -> None:
        """Start deleting this namespace's topics and groups (if ``cleanup``) in the background;
        the shared store stays open."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            groups = sorted(self._groups)
            topics = sorted(self._created)
        if self.cleanup:
            self.store.delete_in_background(topics, groups)
