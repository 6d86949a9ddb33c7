"""The one topic interface both backends implement: the embedded log and Kafka.

Records move as Arrow record batches with ``RAW_SCHEMA`` (no Python object per record).
A backend is a ``TopicStore`` (create/find/delete topics, consumer-group offsets); each topic
is a ``Topic`` (produce a batch, fetch from an offset, end offsets). All calls are synchronous;
the Kafka backend runs aiokafka on its own event loop thread behind this interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

# Columns of a raw record batch. ``timestamp`` is epoch milliseconds; ``key``/``value`` null
# means absent (a null value is a tombstone); ``headers`` null means no headers.
HEADER_TYPE = pa.list_(pa.struct([pa.field("key", pa.string()), pa.field("value", pa.binary())]))
RAW_SCHEMA = pa.schema(
    [
        pa.field("partition", pa.int32(), nullable=False),
        pa.field("offset", pa.int64(), nullable=False),
        pa.field("timestamp", pa.int64(), nullable=False),
        pa.field("key", pa.binary()),
        pa.field("value", pa.binary()),
        pa.field("headers", HEADER_TYPE),
    ]
)


class TopicError(Exception):
    """A topic operation failed (missing topic, bad partition, backend unavailable)."""


@dataclass(frozen=True, slots=True)
class TopicConfig:
    """How a topic is created: ksqlDB's PARTITIONS / REPLICAS, and compaction for tables."""

    name: str
    partitions: int = 1
    replicas: int = 1
    compacted: bool = False


class Topic(Protocol):
    """One topic: partitions of append-only records with offsets."""

    @property
    def name(self) -> str: ...

    @property
    def partitions(self) -> int: ...

    def produce(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Append records and return them as stored (partition, offset filled in).

        ``batch`` has RAW_SCHEMA's columns; ``partition`` may be null (or absent), in which case
        the key picks it with Kafka's murmur2 partitioner (null keys go round-robin), and
        ``offset`` is ignored. Order within a partition is preserved.
        """
        ...

    def fetch(self, partition: int, offset: int, max_records: int = 10_000) -> pa.RecordBatch:
        """Records of ``partition`` from ``offset`` on (at most ``max_records``), RAW_SCHEMA."""
        ...

    def end_offsets(self) -> list[int]:
        """The next offset to be written, per partition."""
        ...


class TopicStore(Protocol):
    """A backend: the set of topics plus committed consumer-group offsets."""

    def create_topic(self, config: TopicConfig) -> Topic:
        """Create a topic (or return the existing one, whose partition count wins)."""
        ...

    def topic(self, name: str) -> Topic | None:
        """The topic called ``name`` (case-sensitive), or None."""
        ...

    def list_topics(self) -> list[str]:
        """Names of all topics, sorted."""
        ...

    def delete_topic(self, name: str) -> None:
        """Delete a topic and its records; no error if absent."""
        ...

    def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """Store committed offsets (next offset to read) for ``group``, keyed (topic, partition)."""
        ...

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """Committed offsets of ``group`` for ``topic``: partition -> next offset to read."""
        ...

    def close(self) -> None:
        """Flush and release resources."""
        ...
