"""Joins end to end on the embedded log: every join family, n-way, joins feeding aggregations,
event-time order across inputs, and ksqlDB's join errors."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from engine.engine import Engine
from engine.errors import KsqlStatementError
from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig

Record = tuple[str | None, dict[str, Any] | None, int]  # key, value (None: tombstone), timestamp


def _produce(engine: Engine, topic_name: str, records: list[Record]) -> None:
    topic = engine.store.topic(topic_name) or engine.store.create_topic(TopicConfig(topic_name, 1))
    n = len(records)
    topic.produce(pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int32()), pa.array([0] * n, pa.int64()), pa.array([r[2] for r in records], pa.int64()),
        pa.array([r[0].encode() if r[0] is not None else None for r in records], pa.binary()),
        pa.array([json.dumps(r[1]).encode() if r[1] is not None else None for r in records], pa.binary()),
        pa.nulls(n, HEADER_TYPE)], schema=RAW_SCHEMA))


def _output(engine: Engine, topic_name: str) -> list[tuple[str | None, dict[str, Any] | None, int]]:
    topic = engine.store.topic(topic_name)
    assert topic is not None
    rows = [r for p in range(topic.partitions) for r in topic.fetch(p, 0, 100_000).to_pylist()]
    return [(r["key"].decode() if r["key"] is not None else None,
             json.loads(r["value"]) if r["value"] is not None else None, r["timestamp"]) for r in rows]


def _engine(sql: str) -> Engine:
    engine = Engine()
    engine.execute(sql)
    return engine


def _step(engine: Engine, topic: str, records: list[Record]) -> None:
    """Produce one topic's records and let the queries drain them (inputs keep their order)."""
    _produce(engine, topic, records)
    engine.run_until_idle()


STREAMS = ("CREATE STREAM clicks (user_id STRING KEY, page STRING) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON', "
           "PARTITIONS=1);"
           "CREATE STREAM buys (user_id STRING KEY, amount INT) WITH (KAFKA_TOPIC='buys', VALUE_FORMAT='JSON', "
           "PARTITIONS=1);")


def test_stream_stream_inner_join_matches_within_window_at_max_timestamp() -> None:
    engine = _engine(STREAMS + "CREATE STREAM out AS SELECT c.user_id, page, amount FROM clicks c "
                               "JOIN buys b WITHIN 10 SECONDS ON c.user_id = b.user_id;")
    _step(engine, "clicks", [("u1", {"PAGE": "home"}, 1_000), ("u2", {"PAGE": "cart"}, 2_000)])
    _step(engine, "buys", [("u1", {"AMOUNT": 5}, 4_000), ("u2", {"AMOUNT": 7}, 30_000)])
    _step(engine, "clicks", [("u1", {"PAGE": "pay"}, 12_000)])
    assert _output(engine, "OUT") == [("u1", {"PAGE": "home", "AMOUNT": 5}, 4_000),
                                      ("u1", {"PAGE": "pay", "AMOUNT": 5}, 12_000)]
    assert [c.name for c in engine.catalog.sources["OUT"].key_columns] == ["C_USER_ID"]
    engine.close()


def test_stream_stream_left_join_without_grace_emits_unmatched_at_once() -> None:
    engine = _engine(STREAMS + "CREATE STREAM out AS SELECT c.user_id, page, amount FROM clicks c "
                               "LEFT JOIN buys b WITHIN 10 SECONDS ON c.user_id = b.user_id;")
    _step(engine, "clicks", [("u1", {"PAGE": "home"}, 1_000)])
    _step(engine, "buys", [("u1", {"AMOUNT": 5}, 2_000)])
    assert _output(engine, "OUT") == [("u1", {"PAGE": "home", "AMOUNT": None}, 1_000),
                                      ("u1", {"PAGE": "home", "AMOUNT": 5}, 2_000)]
    engine.close()


def test_full_outer_join_with_grace_emits_null_padded_rows_once_the_window_closes() -> None:
    engine = _engine(STREAMS + "CREATE STREAM out AS SELECT ROWKEY AS k, page, amount FROM clicks c "
                               "FULL OUTER JOIN buys b WITHIN 1 SECOND GRACE PERIOD 1 SECOND "
                               "ON c.user_id = b.user_id;")
    _step(engine, "clicks", [("u1", {"PAGE": "home"}, 1_000)])
    _step(engine, "buys", [("u2", {"AMOUNT": 3}, 1_500)])
    assert _output(engine, "OUT") == []  # both still wait for a partner
    _step(engine, "buys", [("u1", {"AMOUNT": 4}, 1_800)])  # u1 matches: its click no longer waits
    _step(engine, "clicks", [("u3", {"PAGE": "x"}, 5_000)])  # stream time passes 1500 + 1s + 1s
    assert _output(engine, "OUT") == [("u1", {"PAGE": "home", "AMOUNT": 4}, 1_800),
                                      ("u2", {"PAGE": None, "AMOUNT": 3}, 1_500)]
    engine.close()


TABLES = ("CREATE TABLE users (id STRING PRIMARY KEY, name STRING, country STRING) "
          "WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON', PARTITIONS=1);")


def test_stream_table_join_enriches_with_the_row_as_of_arrival() -> None:
    engine = _engine(STREAMS + TABLES + "CREATE STREAM out AS SELECT c.user_id, page, name FROM clicks c "
                                        "LEFT JOIN users u ON c.user_id = u.id;")
    _step(engine, "users", [("u1", {"NAME": "ann"}, 0)])
    _step(engine, "clicks", [("u1", {"PAGE": "a"}, 10), ("u2", {"PAGE": "b"}, 11)])
    _step(engine, "users", [("u1", {"NAME": "anna"}, 20), ("u2", {"NAME": "bob"}, 21)])  # no output
    _step(engine, "clicks", [("u1", {"PAGE": "c"}, 30)])
    assert _output(engine, "OUT") == [("u1", {"PAGE": "a", "NAME": "ann"}, 10), ("u2", {"PAGE": "b", "NAME": None}, 11),
                                      ("u1", {"PAGE": "c", "NAME": "anna"}, 30)]
    engine.close()


def test_inputs_are_read_in_event_time_order() -> None:
    engine = Engine(properties={"streamsql.join.order.batch.records": "1"})  # exact order, record by record
    engine.execute(STREAMS + TABLES + "CREATE STREAM out AS SELECT c.user_id, page, name FROM clicks c "
                                      "JOIN users u ON c.user_id = u.id;")
    _produce(engine, "clicks", [("u1", {"PAGE": "a"}, 10), ("u1", {"PAGE": "b"}, 30)])
    _produce(engine, "users", [("u1", {"NAME": "ann"}, 5), ("u1", {"NAME": "anna"}, 20)])
    engine.run_until_idle()  # both inputs ready: the table rows at 5 and 20 go before the clicks at 10 and 30
    assert _output(engine, "OUT") == [("u1", {"PAGE": "a", "NAME": "ann"}, 10),
                                      ("u1", {"PAGE": "b", "NAME": "anna"}, 30)]
    engine.close()


ORDERS = ("CREATE TABLE orders (id STRING PRIMARY KEY, user_id STRING, total INT) "
          "WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON', PARTITIONS=1);")


def test_table_table_full_join_propagates_updates_and_deletes() -> None:
    engine = _engine(TABLES + "CREATE TABLE accounts (id STRING PRIMARY KEY, balance INT) "
                              "WITH (KAFKA_TOPIC='accounts', VALUE_FORMAT='JSON', PARTITIONS=1);"
                              "CREATE TABLE out AS SELECT ROWKEY AS id, name, balance FROM users u "
                              "FULL OUTER JOIN accounts a ON u.id = a.id;")
    _step(engine, "users", [("u1", {"NAME": "ann"}, 1)])
    _step(engine, "accounts", [("u1", {"BALANCE": 10}, 2), ("u2", {"BALANCE": 5}, 3)])
    _step(engine, "users", [("u1", None, 4)])
    _step(engine, "accounts", [("u2", None, 5)])
    assert _output(engine, "OUT") == [
        ("u1", {"NAME": "ann", "BALANCE": None}, 1), ("u1", {"NAME": "ann", "BALANCE": 10}, 2),
        ("u2", {"NAME": None, "BALANCE": 5}, 3), ("u1", {"NAME": None, "BALANCE": 10}, 4), ("u2", None, 5)]
    assert engine.query("SELECT * FROM OUT").rows == [["u1", None, 10]]  # the materialised result
    engine.close()


def test_foreign_key_join_fans_right_updates_out_to_referencing_rows() -> None:
    engine = _engine(TABLES + ORDERS + "CREATE TABLE out AS SELECT o.id, total, name FROM orders o "
                                       "JOIN users u ON o.user_id = u.id;")
    _step(engine, "users", [("u1", {"NAME": "ann"}, 1)])
    _step(engine, "orders", [("o1", {"USER_ID": "u1", "TOTAL": 3}, 2), ("o2", {"USER_ID": "u1", "TOTAL": 4}, 3),
                             ("o3", {"USER_ID": "u9", "TOTAL": 5}, 4)])
    _step(engine, "users", [("u1", {"NAME": "anna"}, 10)])
    _step(engine, "users", [("u1", None, 11)])
    assert _output(engine, "OUT") == [
        ("o1", {"TOTAL": 3, "NAME": "ann"}, 2), ("o2", {"TOTAL": 4, "NAME": "ann"}, 3),
        ("o1", {"TOTAL": 3, "NAME": "anna"}, 10), ("o2", {"TOTAL": 4, "NAME": "anna"}, 10),
        ("o1", None, 11), ("o2", None, 11)]
    engine.close()


def test_n_way_stream_table_table_join() -> None:
    engine = _engine(STREAMS + TABLES + ORDERS.replace("orders", "last_order") +
                     "CREATE STREAM out AS SELECT c.user_id, page, name, total FROM clicks c "
                     "JOIN users u ON c.user_id = u.id LEFT JOIN last_order o ON c.user_id = o.id;")
    _step(engine, "users", [("u1", {"NAME": "ann"}, 1)])
    _step(engine, "last_order", [("u1", {"TOTAL": 9}, 2)])
    _step(engine, "clicks", [("u1", {"PAGE": "a"}, 3), ("u2", {"PAGE": "b"}, 4)])
    assert _output(engine, "OUT") == [("u1", {"PAGE": "a", "NAME": "ann", "TOTAL": 9}, 3)]
    engine.close()


def test_join_on_an_expression_rekeys_the_stream() -> None:
    engine = _engine(STREAMS + TABLES + "CREATE STREAM out AS SELECT u.id, page, name FROM clicks c "
                                        "JOIN users u ON UCASE(c.page) = u.id;")
    _step(engine, "users", [("HOME", {"NAME": "home page"}, 1)])
    _step(engine, "clicks", [("u1", {"PAGE": "home"}, 2)])
    assert _output(engine, "OUT") == [("HOME", {"PAGE": "home", "NAME": "home page"}, 2)]
    engine.close()


def test_join_feeding_an_aggregation() -> None:
    engine = _engine(STREAMS + TABLES + "CREATE TABLE per_country AS SELECT country, COUNT(*) AS n FROM clicks c "
                                        "JOIN users u ON c.user_id = u.id GROUP BY country;")
    _step(engine, "users", [("u1", {"COUNTRY": "fr"}, 1), ("u2", {"COUNTRY": "de"}, 1)])
    _step(engine, "clicks", [("u1", {"PAGE": "a"}, 2), ("u2", {"PAGE": "b"}, 3), ("u1", {"PAGE": "c"}, 4)])
    assert _output(engine, "PER_COUNTRY") == [("fr", {"N": 1}, 2), ("de", {"N": 1}, 3), ("fr", {"N": 2}, 4)]
    engine.close()


def test_push_query_over_a_join() -> None:
    engine = _engine(STREAMS + TABLES)
    _produce(engine, "users", [("u1", {"NAME": "ann"}, 1)])
    _produce(engine, "clicks", [("u1", {"PAGE": "a"}, 2)])
    result = engine.execute("SELECT c.user_id, page, name FROM clicks c JOIN users u ON c.user_id = u.id "
                            "EMIT CHANGES LIMIT 1;")[0]
    assert result.rows == [["u1", "a", "ann"]]
    engine.close()


@pytest.mark.parametrize(("statement", "message"), [
    ("CREATE STREAM out AS SELECT page, amount FROM clicks c JOIN buys b WITHIN 1 SECOND ON c.user_id = b.user_id;",
     "must include the join expressions C.USER_ID or B.USER_ID in its projection"),
    ("CREATE STREAM out AS SELECT * FROM clicks c JOIN buys b ON c.user_id = b.user_id;",
     "Stream-Stream joins must have a WITHIN clause specified"),
    ("CREATE TABLE out AS SELECT * FROM users u JOIN clicks c ON u.id = c.user_id;",
     "Invalid join order: table-stream joins are not supported; only stream-table joins. Got USERS [INNER] JOIN CLICKS."),
    ("CREATE STREAM out AS SELECT * FROM clicks c FULL OUTER JOIN users u ON c.user_id = u.id;",
     "Invalid join type: full-outer join not supported for stream-table join."),
    ("CREATE STREAM out AS SELECT * FROM clicks c JOIN users u ON c.page = u.name;",
     "Invalid join condition: stream-table joins require to join on the table's primary key. Got C.PAGE = U.NAME."),
    ("CREATE STREAM out AS SELECT * FROM clicks c JOIN buys b WITHIN 1 SECOND ON c.user_id = 'x';",
     "Invalid comparison expression ''x'' in join '(C.USER_ID = 'x')'."),
])
def test_join_errors(statement: str, message: str) -> None:
    engine = _engine(STREAMS + TABLES)
    with pytest.raises(KsqlStatementError) as info:
        engine.execute(statement)
    assert message in info.value.message
    engine.close()
