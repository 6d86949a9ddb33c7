"""Stateless persistent queries end to end on the embedded log (disk and memory)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from engine.engine import Engine
from engine.errors import KsqlStatementError
from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig
from parser import ParseError

STREAM = ("CREATE STREAM clicks (user_id INT KEY, url STRING, ms BIGINT) "
          "WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', PARTITIONS=2);")
CSAS = ("CREATE STREAM long_clicks AS SELECT user_id, UCASE(url) AS url, ms / 1000 AS secs "
        "FROM clicks WHERE ms >= 1000 EMIT CHANGES;")


def _raw(values: list[bytes | None], keys: list[bytes | None] | None = None) -> pa.RecordBatch:
    n = len(values)
    return pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int32()), pa.array([0] * n, pa.int64()), pa.array(range(1000, 1000 + n), pa.int64()),
        pa.array(keys or [None] * n, pa.binary()), pa.array(values, pa.binary()), pa.nulls(n, HEADER_TYPE),
    ], schema=RAW_SCHEMA)


def _values(engine: Engine, topic: str) -> list[dict]:
    t = engine.store.topic(topic)
    assert t is not None
    rows = [r for p in range(t.partitions) for r in t.fetch(p, 0, 100_000).to_pylist()]
    return [json.loads(r["value"]) for r in rows]


def test_csas_resumes_after_restart_without_loss_or_duplicates(tmp_path: Path) -> None:
    engine = Engine(data_dir=tmp_path)
    engine.execute(STREAM + CSAS)
    for i in range(5):
        engine.execute(f"INSERT INTO clicks (user_id, url, ms) VALUES ({i}, 'u{i}', {i * 500});")
    engine.run_until_idle()
    first = _values(engine, "LONG_CLICKS")
    assert sorted(v["SECS"] for v in first) == [1, 1, 2]  # ms 1000, 1500, 2000 pass; 0 and 500 do not
    engine.close()

    again = Engine(data_dir=tmp_path)  # catalog and queries come back from the command log
    assert "LONG_CLICKS" in again.catalog.sources and len(again.running) == 1
    again.execute("INSERT INTO clicks (user_id, url, ms) VALUES (9, 'late', 9000);")
    again.run_until_idle()
    after = _values(again, "LONG_CLICKS")
    assert len(after) == len(first) + 1
    assert {"URL": "LATE", "SECS": 9} in after
    again.close()


def test_bad_record_goes_to_processing_log_and_the_query_goes_on() -> None:
    engine = Engine()
    engine.execute("CREATE STREAM s (id INT, name STRING) WITH (KAFKA_TOPIC='in', VALUE_FORMAT='JSON', PARTITIONS=1);"
                   "CREATE STREAM out AS SELECT id, name FROM s;")
    topic = engine.store.topic("in")
    assert topic is not None
    topic.produce(_raw([b'{"id": 1, "name": "a"}', b'{"id": oops', b'{"id": 3, "name": "c"}']))
    engine.run_until_idle()
    assert [v["ID"] for v in _values(engine, "OUT")] == [1, 3]
    assert engine.processing_log.count == 1
    rows = engine.execute("SELECT MESSAGE->DESERIALIZATIONERROR->TOPIC AS topic, "
                          "MESSAGE->DESERIALIZATIONERROR->`OFFSET` AS off, "
                          "MESSAGE->DESERIALIZATIONERROR->ERRORMESSAGE AS err "
                          "FROM KSQL_PROCESSING_LOG EMIT CHANGES LIMIT 1;")[0]
    topic_name, offset, error = rows.rows[0]
    assert (topic_name, offset) == ("in", 1)
    assert error
    engine.close()


def test_bad_sql_has_line_column_and_caret() -> None:
    engine = Engine()
    with pytest.raises(ParseError) as info:
        engine.execute("CREATE STREAM s (id INT)\n  WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');\nSELEC * FROM s;")
    err = info.value
    assert (err.line, err.column) == (3, 1)
    lines = str(err).splitlines()
    assert lines[0].startswith("line 3:1:")
    assert lines[-2:] == ["SELEC * FROM s;", "^"]
    engine.close()


def test_semantic_errors_use_ksqldb_messages() -> None:
    engine = Engine()
    engine.execute("CREATE STREAM s (id INT KEY, v STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', PARTITIONS=1);")
    with pytest.raises(KsqlStatementError, match="SELECT column 'NOPE' cannot be resolved"):
        engine.execute("CREATE STREAM o AS SELECT id, nope FROM s;")
    with pytest.raises(KsqlStatementError, match="Topic 'missing' does not exist"):
        engine.execute("CREATE STREAM m (v STRING) WITH (KAFKA_TOPIC='missing', VALUE_FORMAT='JSON');")
    engine.close()


def test_push_query_streams_rows_until_limit() -> None:
    engine = Engine()
    engine.execute("CREATE STREAM s (id INT KEY, v STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', PARTITIONS=1);")
    push = engine.push_query("SELECT id, v FROM s WHERE id > 1 EMIT CHANGES LIMIT 2;")
    engine.execute("INSERT INTO s (id, v) VALUES (1, 'a'); INSERT INTO s (id, v) VALUES (2, 'b');")
    assert push.poll() == [[2, "b"]] and not push.done
    engine.execute("INSERT INTO s (id, v) VALUES (3, 'c'); INSERT INTO s (id, v) VALUES (4, 'd');")
    assert push.poll() == [[3, "c"]] and push.done
    engine.close()


def test_catalog_statements() -> None:
    engine = Engine()
    engine.execute("CREATE STREAM s (id INT KEY, v STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', PARTITIONS=3);"
                   "CREATE STREAM o WITH (KAFKA_TOPIC='o_topic') AS SELECT id, v FROM s PARTITION BY v;")
    streams = engine.execute("SHOW STREAMS;")[0]
    assert {s["name"] for s in streams.data} >= {"S", "O"}
    described = engine.execute("DESCRIBE o EXTENDED;")[0].data
    assert described["topic"] == "o_topic" and described["partitions"] == 3
    assert described["schemaText"] == "`V` STRING KEY, `ID` INTEGER"
    queries = engine.execute("SHOW QUERIES;")[0].data
    assert [q["id"] for q in queries] == ["CSAS_O_1"]
    with pytest.raises(KsqlStatementError, match="Cannot drop S"):
        engine.execute("DROP STREAM s;")
    engine.execute("TERMINATE CSAS_O_1; DROP STREAM o DELETE TOPIC;")
    assert engine.store.topic("o_topic") is None and "O" not in engine.catalog.sources
    engine.close()


def test_partition_by_places_keys_with_murmur2() -> None:
    engine = Engine()
    engine.store.create_topic(TopicConfig("t", 1))
    engine.execute("CREATE STREAM s (v STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');"
                   "CREATE STREAM o WITH (PARTITIONS=4) AS SELECT v, LEN(v) AS n FROM s PARTITION BY v;")
    for word in ["a", "b", "c", "d", "e"]:
        engine.execute(f"INSERT INTO s (v) VALUES ('{word}');")
    engine.run_until_idle()
    from engine.topics.partitioner import partition_for_keys
    out = engine.store.topic("O")
    assert out is not None
    for p in range(4):
        keys = out.fetch(p, 0, 100).column("key")
        if len(keys):
            assert set(partition_for_keys(keys, 4).to_pylist()) == {p}
    engine.close()


def test_assert_topic_and_schema() -> None:
    engine = Engine()
    engine.execute("CREATE STREAM s (id INT KEY, v STRING) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', PARTITIONS=3);")
    assert engine.execute("ASSERT TOPIC t WITH (PARTITIONS=3);")[0].data == {"topicName": "T", "exists": True}
    engine.execute("ASSERT NOT EXISTS TOPIC other;")
    with pytest.raises(KsqlStatementError, match="expected 2 got 3"):
        engine.execute("ASSERT TOPIC t WITH (PARTITIONS=2);")
    with pytest.raises(KsqlStatementError, match="does not exist"):
        engine.execute("ASSERT TOPIC other TIMEOUT 100 MILLISECONDS;")
    with pytest.raises(KsqlStatementError, match="Schema Registry"):
        engine.execute("ASSERT SCHEMA SUBJECT 'x';")
    engine.close()


def test_a_record_failing_evaluation_is_logged_and_the_rest_of_its_batch_is_kept() -> None:
    from engine.operators.evaluate import BatchEvaluator

    engine = Engine()
    evaluator = BatchEvaluator(engine, "q", "in")
    batch = pa.table({"X": ["1", "2", "oops", "4", "5"], "ROWPARTITION": pa.array([0] * 5, pa.int32()),
                      "ROWOFFSET": pa.array(range(5), pa.int64())})
    out = evaluator.run('SELECT CAST("X" AS INTEGER) AS y, "ROWOFFSET" AS o FROM batch', batch)
    assert out is not None and out.to_pylist() == [{"y": 1, "o": 0}, {"y": 2, "o": 1}, {"y": 4, "o": 3},
                                                   {"y": 5, "o": 4}]
    assert engine.processing_log.count == 1
    log = engine.store.topic(engine.processing_log.topic_name)
    assert log is not None
    error = json.loads(log.fetch(0, 0, 10).column("value")[0].as_py())["MESSAGE"]["RECORDPROCESSINGERROR"]
    assert "oops" in error["ERRORMESSAGE"]
    engine.close()
