"""Independent Kafka clients for the interop tests: confluent-kafka (librdkafka) and kcat.

Nothing here uses streamsql's own Kafka code: topics are created, records produced and read
back, partitions placed and committed offsets looked up the way a user's other applications
would do it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

KCAT_HINT = (
    "kcat is not installed; the interop tests use it as an independent Kafka client. "
    "Install it with `apt-get update && apt-get install -y kcat` (Debian/Ubuntu) "
    "or `brew install kcat` (macOS)."
)


@dataclass(frozen=True)
class Record:
    """One record as read by an independent consumer."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None

    def json(self) -> Any:
        """The value decoded as JSON (None for a tombstone)."""
        return None if self.value is None else json.loads(self.value)


def create_topic(bootstrap: str, name: str, partitions: int, config: dict[str, str] | None = None) -> None:
    """Create a topic with librdkafka's admin client and wait for the result."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(name, partitions, 1, config=config or {})], operation_timeout=30)
    futures[name].result(timeout=60)


def topic_config(bootstrap: str, name: str) -> dict[str, str]:
    """The topic's configuration as the broker reports it."""
    from confluent_kafka.admin import ConfigResource

    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    entries = admin.describe_configs([resource])[resource].result(timeout=30)
    return {k: v.value for k, v in entries.items()}


def produce(bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes | None]]) -> list[tuple[int, int]]:
    """Produce (key, value) pairs with librdkafka's Java-compatible keyed partitioner.

    Returns (partition, offset) per record, in order; fails unless every record is acknowledged.
    """
    producer = Producer(
        {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "acks": "all",
         "enable.idempotence": True, "linger.ms": 5}
    )
    placed: dict[int, tuple[int, int]] = {}
    failures: list[str] = []

    def delivered(index: int) -> Any:
        def callback(err: Any, msg: Any) -> None:
            if err is not None:
                failures.append(str(err))
            else:
                placed[index] = (msg.partition(), msg.offset())
        return callback

    count = 0
    for count, (key, value) in enumerate(records, start=1):
        producer.produce(topic, key=key, value=value, on_delivery=delivered(count - 1))
        producer.poll(0)
    assert producer.flush(60) == 0, "librdkafka did not deliver every record within 60 s"
    assert not failures, failures[:5]
    return [placed[i] for i in range(count)]


def java_partitions(bootstrap: str, keys: list[bytes], partitions: int) -> dict[bytes, int]:
    """Where the Java client (murmur2) puts each key, as librdkafka's murmur2 partitioner does it:
    the keys are produced to a scratch topic and the delivery reports say where they went."""
    scratch = f"placement-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, scratch, partitions)
    try:
        placed = produce(bootstrap, scratch, [(k, b"") for k in keys])
    finally:
        AdminClient({"bootstrap.servers": bootstrap}).delete_topics([scratch])
    return {k: p for k, (p, _) in zip(keys, placed, strict=True)}


def consume(bootstrap: str, topic: str, *, until: int, timeout: float) -> list[Record]:
    """Read ``topic`` from the beginning until ``until`` records arrived (or fail at ``timeout``).

    A fresh consumer group per call; reads stay open a short moment past ``until`` so that
    surplus records (duplicates) are seen too.
    """
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4().hex[:8]}",
         "auto.offset.reset": "earliest", "enable.auto.commit": False}
    )
    out: list[Record] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        settle: float | None = None
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            error = None if msg is None else msg.error()
            if msg is not None and error is None:
                out.append(Record(msg.partition() or 0, msg.offset() or 0, msg.key(), msg.value()))
            elif error is not None and error.fatal():
                raise KafkaException(error)  # others (e.g. topic not created yet) pass
            if len(out) >= until:
                settle = settle or time.monotonic() + 1.0
                if time.monotonic() >= settle:
                    return out
        raise AssertionError(f"only {len(out)} of {until} records on {topic} within {timeout:.0f}s")
    finally:
        consumer.close()


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offsets for ``topic`` as any Kafka client sees them."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        tps = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
        return {tp.partition: tp.offset for tp in tps if tp.offset >= 0}
    finally:
        consumer.close()


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    """High watermark per partition."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"wm-{uuid.uuid4().hex[:8]}"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
                for p in range(partitions)}
    finally:
        consumer.close()


def kcat() -> str:
    """The kcat executable; fails the test with installation instructions when absent."""
    path = shutil.which("kcat") or shutil.which("kafkacat")
    if path is None:
        raise AssertionError(KCAT_HINT)
    return path


def kcat_produce(bootstrap: str, topic: str, lines: list[tuple[str, str]]) -> None:
    """Produce ``key:value`` lines with kcat (Java-compatible murmur2 key placement)."""
    text = "".join(f"{k}\t{v}\n" for k, v in lines)
    done = subprocess.run(
        [kcat(), "-P", "-b", bootstrap, "-t", topic, "-K", "\t", "-X", "partitioner=murmur2_random",
         "-X", "acks=all"],
        input=text, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, f"kcat -P failed: {done.stderr}"


def kcat_consume(bootstrap: str, topic: str) -> list[Record]:
    """Every record of ``topic`` read with kcat (``-e``: stop at the end of each partition)."""
    fmt = "%p\t%o\t%k\t%s\n"
    done = subprocess.run(
        [kcat(), "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-f", fmt],
        capture_output=True, timeout=60,
    )
    assert done.returncode == 0, f"kcat -C failed: {done.stderr.decode(errors='replace')}"
    out = []
    for line in done.stdout.decode().splitlines():
        p, o, k, v = line.split("\t", 3)
        out.append(Record(int(p), int(o), k.encode(), v.encode()))
    return out


def produce_transactions(bootstrap: str, topic: str, batches: list[list[tuple[bytes, bytes]]]) -> None:
    """Produce each batch as one committed transaction (as exactly-once applications write):
    the topic then holds a commit marker after every batch, an offset with no record."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random",
         "transactional.id": f"tx-{uuid.uuid4().hex[:8]}"}
    )
    producer.init_transactions(60)
    for batch in batches:
        producer.begin_transaction()
        for key, value in batch:
            producer.produce(topic, key=key, value=value)
        producer.commit_transaction(60)
