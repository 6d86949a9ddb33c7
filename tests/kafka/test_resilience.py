"""Broker outages: a clear error when there is no broker at start, and a broker restart under a
running persistent query loses nothing."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from clients import consume, create_topic
from confluent_kafka import Producer
from kafka_support import KafkaUnderTest
from streamsql_process import StreamsqlProcess

from engine.topics.base import TopicError
from engine.topics.kafka import KafkaStore
from tools.kafka.broker import free_port

pytestmark = pytest.mark.kafka

SQL = """CREATE STREAM readings (sensor VARCHAR KEY, seq BIGINT, reading DOUBLE)
  WITH (KAFKA_TOPIC = '{source}', VALUE_FORMAT = 'JSON');
CREATE STREAM doubled WITH (KAFKA_TOPIC = '{sink}') AS
  SELECT sensor, seq, reading * 2 AS doubled FROM readings EMIT CHANGES;
"""


def test_store_gives_up_on_a_closed_port_after_backoff() -> None:
    began = time.monotonic()
    with pytest.raises(TopicError, match=r"not reachable: gave up after \d+ attempts") as info:
        KafkaStore(f"127.0.0.1:{free_port()}", connect_timeout=2.0)
    elapsed = time.monotonic() - began
    assert 2.0 <= elapsed < 10.0, elapsed
    assert int(str(info.value).split("gave up after ")[1].split()[0]) > 1  # it did retry


def test_run_without_broker_prints_a_clear_error(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    sql = tmp_path / "q.sql"
    sql.write_text(SQL.format(source="in", sink="out"), encoding="utf-8")
    began = time.monotonic()
    with StreamsqlProcess(
        ["run", str(sql), "--kafka", address, "--data-dir", str(tmp_path / "d")],
        env={"STREAMSQL_KAFKA_CONNECT_TIMEOUT": "3"},
    ) as proc:
        code = proc.wait(timeout=60)
    elapsed = time.monotonic() - began
    assert code != 0
    assert f"Kafka broker at {address} is not reachable" in proc.stderr, proc.stderr
    assert "gave up after" in proc.stderr
    assert "Traceback" not in proc.stderr, f"a traceback instead of a message:\n{proc.stderr}"
    assert elapsed >= 3.0, "it should retry with backoff for the connect timeout"


class _Feeder(threading.Thread):
    """Produces numbered readings until stopped; remembers what the broker acknowledged."""

    def __init__(self, bootstrap: str, topic: str, base_time: int | None = None) -> None:
        super().__init__(name="feeder", daemon=True)
        self.topic = topic
        self.base_time = base_time  # record timestamps base_time + 20 ms * seq (else: now)
        self.producer = Producer(
            {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "acks": "all",
             "enable.idempotence": True, "linger.ms": 5, "message.timeout.ms": 120_000,
             "log_level": 2}  # librdkafka's own connection-refused lines would flood stderr
        )
        self.acked: list[int] = []
        self.failed: list[str] = []
        self.stopping = threading.Event()
        self.cond = threading.Condition()

    def _delivered(self, err: object, msg: object) -> None:
        with self.cond:
            if err is None:
                self.acked.append(json.loads(msg.value())["seq"])  # type: ignore[attr-defined]
            else:
                self.failed.append(str(err))
            self.cond.notify_all()

    def run(self) -> None:
        seq = 0
        while not self.stopping.is_set():
            value = json.dumps({"seq": seq, "reading": seq / 10}).encode()
            stamp = 0 if self.base_time is None else self.base_time + 20 * seq  # 0: now
            self.producer.produce(self.topic, key=b"sensor-%d" % (seq % 13), value=value,
                                  on_delivery=self._delivered, timestamp=stamp)
            self.producer.poll(0.01)  # ~100 records/s, delivery reports served
            seq += 1
        self.producer.flush(120)

    def wait_acked(self, count: int, timeout: float) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.acked) >= count, timeout):
                raise AssertionError(f"only {len(self.acked)} of {count} readings acknowledged in {timeout}s")


def test_query_survives_a_broker_restart(kafka: KafkaUnderTest, tmp_path: Path) -> None:
    if kafka.broker is None:
        pytest.skip("STREAMSQL_KAFKA points at an external broker, which this suite cannot restart")
    uid = uuid.uuid4().hex[:8]
    source, sink = f"readings-{uid}", f"doubled-{uid}"
    create_topic(kafka.bootstrap, source, 3)
    sql = tmp_path / "q.sql"
    sql.write_text(SQL.format(source=source, sink=sink), encoding="utf-8")
    (tmp_path / "d").mkdir()
    feeder = _Feeder(kafka.bootstrap, source)
    with StreamsqlProcess(["run", str(sql), "--kafka", kafka.bootstrap, "--data-dir", str(tmp_path / "d")]) as proc:
        proc.wait_for_line(r"Running 1 persistent queries", 60)
        feeder.start()
        try:
            feeder.wait_acked(200, timeout=60)
            consume(kafka.bootstrap, sink, until=100, timeout=60)  # the query is flowing
            kafka.broker.restart()  # same port and data; the query and the feeder keep going
            feeder.wait_acked(len(feeder.acked) + 200, timeout=120)
        finally:
            feeder.stopping.set()
            feeder.join(150)
        acked = Counter(feeder.acked)
        records = consume(kafka.bootstrap, sink, until=len(acked), timeout=120)
        code = proc.stop()
    assert code == 0, f"exit {code}\n{proc.stderr[-5000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr[-5000:]
    out = Counter(r.json()["SEQ"] for r in records)
    lost = sorted(set(acked) - set(out))
    assert not lost, f"{len(lost)} acknowledged readings missing from the output, e.g. {lost[:10]}"
    assert all(r.json()["DOUBLED"] == r.json()["SEQ"] / 5 for r in records)
    duplicated = sum(n - 1 for n in out.values() if n > 1)
    print(f"restart: {len(acked)} inputs, {len(records)} outputs, {duplicated} duplicates")


WINDOWED_SQL = """CREATE STREAM readings (sensor VARCHAR KEY, seq BIGINT, reading DOUBLE)
  WITH (KAFKA_TOPIC = '{source}', VALUE_FORMAT = 'JSON');
CREATE TABLE per_second WITH (KAFKA_TOPIC = '{sink}') AS
  SELECT sensor, COUNT(*) AS n, SUM(seq) AS seq_sum
  FROM readings WINDOW TUMBLING (SIZE 1 SECOND)
  GROUP BY sensor EMIT CHANGES;
"""


def test_windowed_aggregation_survives_a_broker_restart(kafka: KafkaUnderTest, tmp_path: Path) -> None:
    if kafka.broker is None:
        pytest.skip("STREAMSQL_KAFKA points at an external broker, which this suite cannot restart")
    uid = uuid.uuid4().hex[:8]
    source, sink = f"wreadings-{uid}", f"per-second-{uid}"
    create_topic(kafka.bootstrap, source, 3)
    sql = tmp_path / "q.sql"
    sql.write_text(WINDOWED_SQL.format(source=source, sink=sink), encoding="utf-8")
    (tmp_path / "d").mkdir()
    base = int(time.time()) * 1000
    feeder = _Feeder(kafka.bootstrap, source, base_time=base)
    with StreamsqlProcess(["run", str(sql), "--kafka", kafka.bootstrap, "--data-dir", str(tmp_path / "d")]) as proc:
        proc.wait_for_line(r"Running 1 persistent queries", 60)
        feeder.start()
        try:
            feeder.wait_acked(200, timeout=60)
            consume(kafka.bootstrap, sink, until=100, timeout=60)  # the aggregation is flowing
            kafka.broker.restart()
            feeder.wait_acked(len(feeder.acked) + 200, timeout=120)
        finally:
            feeder.stopping.set()
            feeder.join(150)
        assert not feeder.failed, feeder.failed[:5]
        records = consume(kafka.bootstrap, sink, until=len(feeder.acked), timeout=120)
        code = proc.stop()
    assert code == 0, f"exit {code}\n{proc.stderr[-5000:]}"
    # Windowed keys are ksqlDB's: the KAFKA-format key, then the window start (8 bytes, big-endian).
    final: dict[tuple[bytes, int], tuple[int, int]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        assert r.key is not None and r.value is not None
        window = int.from_bytes(r.key[-8:], "big")
        final[(r.key[:-8], window)] = (r.json()["N"], r.json()["SEQ_SUM"])
    expected: dict[tuple[bytes, int], tuple[int, int]] = {}
    for seq in feeder.acked:
        cell = (b"sensor-%d" % (seq % 13), (base + 20 * seq) // 1000 * 1000)
        n, total = expected.get(cell, (0, 0))
        expected[cell] = (n + 1, total + seq)
    wrong = {k: (final.get(k), v) for k, v in expected.items() if final.get(k) != v}
    assert not wrong and final.keys() == expected.keys(), f"{len(wrong)} windows wrong, e.g. {list(wrong.items())[:5]}"
