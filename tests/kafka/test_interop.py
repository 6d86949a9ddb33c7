"""streamsql among other Kafka clients, as users run it.

An independent client (confluent-kafka, and kcat) creates the topics and produces keyed JSON
records; ``streamsql run FILE.sql --kafka ...`` runs the persistent query as a real subprocess,
stopped with SIGTERM; the independent clients read the output back and check keys, values,
partitions (where Java's murmur2 partitioner puts each key) and the query's committed offsets.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import pytest
from clients import (
    Record,
    committed,
    consume,
    create_topic,
    end_offsets,
    java_partitions,
    kcat_consume,
    kcat_produce,
    produce,
    produce_transactions,
    topic_config,
)
from kafka_support import KafkaUnderTest
from streamsql_process import StreamsqlProcess

pytestmark = pytest.mark.kafka

PARTITIONS = 3
STARTUP = 60.0  # seconds for `streamsql run` to connect, create its topics and start
PROGRESS = 90.0  # seconds for the query to process what was produced


def _pageview(i: int) -> tuple[bytes, bytes]:
    value = {"viewtime": i, "pageid": f"page-{i % 11}"}
    return f"user-{i % 37}".encode(), json.dumps(value).encode()


def _expected(indexes: range) -> Counter[tuple[bytes | None, str]]:
    """(output key, output value) of every input the query keeps: viewtime not divisible by 3."""
    out: Counter[tuple[bytes | None, str]] = Counter()
    for i in indexes:
        if i % 3:
            value = {"USER_UPPER": f"USER-{i % 37}", "VIEWTIME": i}
            out[(f"page-{i % 11}".encode(), json.dumps(value, sort_keys=True))] += 1
    return out


def _actual(records: list[Record]) -> Counter[tuple[bytes | None, str]]:
    return Counter((r.key, json.dumps(r.json(), sort_keys=True)) for r in records)


def _sql(path: Path, source: str, sink: str) -> Path:
    path.write_text(
        f"""-- pageviews from other applications, re-keyed by page for downstream consumers
CREATE STREAM pageviews (userid VARCHAR KEY, viewtime BIGINT, pageid VARCHAR)
  WITH (KAFKA_TOPIC = '{source}', VALUE_FORMAT = 'JSON');

CREATE STREAM pageviews_by_page WITH (KAFKA_TOPIC = '{sink}') AS
  SELECT pageid, UCASE(userid) AS user_upper, viewtime
  FROM pageviews
  WHERE viewtime % 3 <> 0
  PARTITION BY pageid
  EMIT CHANGES;
""",
        encoding="utf-8",
    )
    return path


def _run(bootstrap: str, sql: Path, data_dir: Path) -> StreamsqlProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    return StreamsqlProcess(["run", str(sql), "--kafka", bootstrap, "--data-dir", str(data_dir)])


def _stop_cleanly(proc: StreamsqlProcess) -> None:
    code = proc.stop()
    assert code == 0, f"streamsql run exited with {code} on SIGTERM.\nstderr:\n{proc.stderr[-5000:]}"
    assert "Stopped; offsets committed." in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr[-5000:]


def test_stateless_csas_between_independent_clients(kafka: KafkaUnderTest, tmp_path: Path) -> None:
    bootstrap, uid = kafka.bootstrap, uuid.uuid4().hex[:8]
    source, sink = f"pageviews-{uid}", f"pageviews-by-page-{uid}"
    create_topic(bootstrap, source, PARTITIONS)
    produce(bootstrap, source, [_pageview(i) for i in range(200)])
    kcat_produce(bootstrap, source, [(k.decode(), v.decode()) for k, v in map(_pageview, range(200, 300))])
    kcat_produce(bootstrap, source, [("user-bad", "{not json")])  # goes to the processing log
    sql = _sql(tmp_path / "pageviews.sql", source, sink)

    with _run(bootstrap, sql, tmp_path / "run1") as proc:
        query_id = proc.wait_for_line(r"Created query with ID (\S+)", STARTUP).group(1)
        proc.wait_for_line(r"Running 1 persistent queries", STARTUP)
        expected = _expected(range(300))
        records = consume(bootstrap, sink, until=sum(expected.values()), timeout=PROGRESS)
        _stop_cleanly(proc)

    assert _actual(records) == expected
    placement = java_partitions(bootstrap, sorted({r.key for r in records if r.key}), PARTITIONS)
    misplaced = [(r.key, r.partition) for r in records if r.key is None or r.partition != placement[r.key]]
    assert not misplaced, f"keys not where the Java partitioner puts them: {misplaced[:5]}"
    assert len({r.partition for r in records}) == PARTITIONS, "the sink inherits the source's 3 partitions"
    assert _actual(kcat_consume(bootstrap, sink)) == expected  # a second independent reader agrees

    # The query's consumer group, as every Kafka tool sees it, has committed the whole input.
    group = f"_confluent-ksql-default_query_{query_id}"
    assert committed(bootstrap, group, source, PARTITIONS) == end_offsets(bootstrap, source, PARTITIONS)

    # Restart: a new process (fresh state dir, same query id, so the same group) resumes after
    # the committed offsets: the new records are processed once, the old ones not again.
    produce(bootstrap, source, [_pageview(i) for i in range(300, 360)])
    with _run(bootstrap, sql, tmp_path / "run2") as proc:
        proc.wait_for_line(r"Running 1 persistent queries", STARTUP)
        expected = _expected(range(360))
        records = consume(bootstrap, sink, until=sum(expected.values()), timeout=PROGRESS)
        _stop_cleanly(proc)
    assert _actual(records) == expected, "records lost or processed twice across the restart"
    assert committed(bootstrap, group, source, PARTITIONS) == end_offsets(bootstrap, source, PARTITIONS)


def test_group_by_count_table_between_independent_clients(kafka: KafkaUnderTest, tmp_path: Path) -> None:
    bootstrap, uid = kafka.bootstrap, uuid.uuid4().hex[:8]
    source, sink = f"clicks-{uid}", f"clicks-per-page-{uid}"
    create_topic(bootstrap, source, PARTITIONS)
    produce(bootstrap, source, [_pageview(i) for i in range(240)])
    kcat_produce(bootstrap, source, [(k.decode(), v.decode()) for k, v in map(_pageview, range(240, 300))])
    sql = tmp_path / "counts.sql"
    sql.write_text(
        f"""CREATE STREAM clicks (userid VARCHAR KEY, viewtime BIGINT, pageid VARCHAR)
  WITH (KAFKA_TOPIC = '{source}', VALUE_FORMAT = 'JSON');
CREATE TABLE clicks_per_page WITH (KAFKA_TOPIC = '{sink}') AS
  SELECT pageid, COUNT(*) AS views, MAX(viewtime) AS last_view
  FROM clicks GROUP BY pageid EMIT CHANGES;
""",
        encoding="utf-8",
    )
    with _run(bootstrap, sql, tmp_path / "run") as proc:
        proc.wait_for_line(r"Running 1 persistent queries", STARTUP)
        records = consume(bootstrap, sink, until=300, timeout=PROGRESS)  # one update per input
        _stop_cleanly(proc)

    # The changelog, read in offset order per partition: per page, the counts 1, 2, ... n.
    updates: dict[bytes | None, list[int]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        updates.setdefault(r.key, []).append(r.json()["VIEWS"])
    expected = Counter(f"page-{i % 11}".encode() for i in range(300))
    assert {k: v[-1] for k, v in updates.items()} == dict(expected)  # the final table
    assert all(v == list(range(1, len(v) + 1)) for v in updates.values()), "each input counted once"
    last = {r.key: r.json()["LAST_VIEW"] for r in sorted(records, key=lambda r: (r.partition, r.offset))}
    assert last == {f"page-{p}".encode(): max(i for i in range(300) if i % 11 == p) for p in range(11)}
    placement = java_partitions(bootstrap, sorted(k for k in updates if k), PARTITIONS)
    assert all(r.key is not None and r.partition == placement[r.key] for r in records)
    assert topic_config(bootstrap, sink)["cleanup.policy"] == "compact"  # a table's changelog


def test_input_from_a_transactional_producer_is_read_once(kafka: KafkaUnderTest, tmp_path: Path) -> None:
    """Exactly-once applications (Kafka Streams, ksqlDB) write transactions: every commit leaves a
    marker that takes an offset but is no record. Reading past the gaps must neither skip nor
    repeat records."""
    bootstrap, uid = kafka.bootstrap, uuid.uuid4().hex[:8]
    source, sink = f"tx-pageviews-{uid}", f"tx-pageviews-by-page-{uid}"
    create_topic(bootstrap, source, PARTITIONS)
    produce_transactions(bootstrap, source, [[_pageview(i) for i in range(n, n + 30)] for n in range(0, 300, 30)])
    sql = _sql(tmp_path / "pageviews.sql", source, sink)
    with _run(bootstrap, sql, tmp_path / "run") as proc:
        proc.wait_for_line(r"Running 1 persistent queries", STARTUP)
        expected = _expected(range(300))
        records = consume(bootstrap, sink, until=sum(expected.values()), timeout=PROGRESS)
        _stop_cleanly(proc)
    assert _actual(records) == expected
