"""A broker bounce in the middle of a produce stream loses no acknowledged record."""

from __future__ import annotations

import threading
import time

import pyarrow as pa
import pytest
from kafka_support import KafkaUnderTest

from engine.topics.base import TopicConfig, TopicError
from engine.topics.kafka import KafkaStore

pytestmark = pytest.mark.kafka

BATCH = 500


class _Producer(threading.Thread):
    """Produces numbered batches until stopped, recording what the broker acknowledged."""

    def __init__(self, store: KafkaStore, topic: str) -> None:
        super().__init__(name="restart-producer", daemon=True)
        self.handle = store.topic(topic)
        assert self.handle is not None
        self.acked: list[pa.RecordBatch] = []
        self.failed: list[TopicError] = []
        self.calls: list[tuple[float, float]] = []  # (start, end) of every produce call
        self.changed = threading.Condition()
        self.stopping = threading.Event()

    def run(self) -> None:
        assert self.handle is not None
        for i in range(1_000_000):
            if self.stopping.is_set():
                break
            values = pa.array([b"%d-%d" % (i, j) for j in range(BATCH)], pa.binary())
            keys = pa.array([b"k%d" % (j % 31) for j in range(BATCH)], pa.binary())
            began = time.monotonic()
            try:
                stored = self.handle.produce(pa.RecordBatch.from_pydict({"key": keys, "value": values}))
            except TopicError as exc:  # not acknowledged: allowed to be lost (or written)
                self.failed.append(exc)
                continue
            finally:
                self.calls.append((began, time.monotonic()))
            with self.changed:
                self.acked.append(stored)
                self.changed.notify_all()

    def wait_acked(self, count: int, timeout: float) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.acked) >= count, timeout):
                raise AssertionError(f"only {len(self.acked)} of {count} batches acknowledged in {timeout}s")


def test_restart_mid_produce_loses_no_acknowledged_record(kafka: KafkaUnderTest, topic_name: str) -> None:
    if kafka.broker is None:
        pytest.skip("STREAMSQL_KAFKA points at an external broker, which this suite cannot restart")
    with KafkaStore(kafka.bootstrap, client_id="restart-test", request_timeout=90) as store:
        store.create_topic(TopicConfig(topic_name, partitions=3))
        producer = _Producer(store, topic_name)
        producer.start()
        try:
            producer.wait_acked(10, timeout=60)
            bounce_began = time.monotonic()
            kafka.broker.restart()  # same ports, same data; produce calls are in flight meanwhile
            bounce_ended = time.monotonic()
            producer.wait_acked(len(producer.acked) + 10, timeout=90)
        finally:
            producer.stopping.set()
            producer.join(timeout=120)
        assert not producer.is_alive()
        during = [c for c in producer.calls if c[0] < bounce_ended and c[1] > bounce_began]
        assert during, "no produce call was in flight during the restart"
        acked = pa.Table.from_batches(producer.acked).to_pylist()
        handle = store.topic(topic_name)
        assert handle is not None
        stored: dict[tuple[int, int], bytes] = {}
        for p, end in enumerate(handle.end_offsets()):
            offset = 0
            while offset < end:
                batch = handle.fetch(p, offset)
                for row in batch.to_pylist():
                    stored[(row["partition"], row["offset"])] = row["value"]
                offset = batch.column("offset")[-1].as_py() + 1
        missing = [r for r in acked if stored.get((r["partition"], r["offset"])) != r["value"]]
        assert not missing, f"{len(missing)} acknowledged records lost or moved, e.g. {missing[:3]}"
        values = list(stored.values())
        assert len(values) == len(set(values)), "a retried batch was written twice (idempotence broken)"
