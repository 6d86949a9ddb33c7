"""Every statement family parses to the expected dataclass and round-trips through ``.sql()``."""

from __future__ import annotations

import pytest
from sqlglot import exp

from parser import parse
from parser.statements import (
    AlterSource,
    AssertSchema,
    AssertStream,
    AssertTopic,
    AssertValues,
    ColumnDef,
    ConnectorStatement,
    CreateAsSelect,
    CreateSource,
    CreateType,
    Define,
    Describe,
    Drop,
    DropType,
    Explain,
    InsertInto,
    InsertValues,
    JoinWindow,
    PauseResume,
    Print,
    Query,
    RunScript,
    SetProperty,
    Show,
    SqlType,
    Terminate,
    Undefine,
    UnsetProperty,
    WindowSpec,
)

FAMILIES = [
    "CREATE STREAM s (id INT KEY, v STRING) WITH (kafka_topic='t', value_format='JSON', partitions=2)",
    "CREATE OR REPLACE SOURCE TABLE IF NOT EXISTS `t` (`Id` BIGINT PRIMARY KEY, h BYTES HEADERS) "
    "WITH ('KEY_FORMAT'='KAFKA', replicas=1.5, wrap_single_value=false)",
    "CREATE STREAM s (a ARRAY<MAP<STRING, STRUCT<x INT, `y` DECIMAL(4, 2)>>>, b STRUCT<>, c MY_TYPE, "
    "d BYTES HEADER('k'))",
    "CREATE STREAM s WITH (kafka_topic='t', value_format='AVRO')",
    "CREATE STREAM o WITH (kafka_topic='o') AS SELECT * FROM s WHERE a > 1 PARTITION BY b EMIT CHANGES",
    "CREATE TABLE o AS SELECT k, COUNT(*) AS c, LATEST_BY_OFFSET(v) FROM s "
    "WINDOW HOPPING (SIZE 1 MINUTE, ADVANCE BY 10 SECONDS, RETENTION 2 DAYS, GRACE PERIOD 0 SECONDS) "
    "GROUP BY k HAVING COUNT(*) > 1 EMIT FINAL",
    "CREATE TABLE o AS SELECT k FROM s WINDOW SESSION (30 SECONDS) GROUP BY k",
    "CREATE STREAM j AS SELECT l.id, r.v FROM l LEFT OUTER JOIN r WITHIN (1 SECOND, 2 HOURS) GRACE PERIOD "
    "5 MINUTES ON l.id = r.id FULL OUTER JOIN x WITHIN 10 MILLISECONDS ON l.id = x.id INNER JOIN t ON t.k = l.id",
    "INSERT INTO o WITH (query_id='q1') SELECT * FROM s",
    "INSERT INTO o (a, `B`) VALUES (1, 'x''y')",
    "INSERT INTO o VALUES (-1.5, NULL, TRUE, ARRAY[1, 2], MAP('a' := 1), STRUCT(f := 2))",
    "SELECT * FROM t WHERE k = 'a' LIMIT 10",
    "SELECT t.*, s->*, a AS b FROM t",
    "SHOW STREAMS EXTENDED", "LIST TABLES", "SHOW ALL TOPICS EXTENDED", "SHOW QUERIES",
    "SHOW PROPERTIES", "SHOW FUNCTIONS", "SHOW TYPES", "SHOW VARIABLES", "SHOW CONNECTORS",
    "SHOW SINK CONNECTORS", "SHOW CONNECTOR PLUGINS",
    "DESCRIBE s EXTENDED", "DESCRIBE EXTENDED s", "DESCRIBE STREAMS", "DESCRIBE TABLES EXTENDED", "DESCRIBE FUNCTION ucase",
    "DESCRIBE CONNECTOR c",
    "EXPLAIN SELECT * FROM s EMIT CHANGES", "EXPLAIN CSAS_O_0",
    "TERMINATE q1", "TERMINATE ALL", "PAUSE ALL", "RESUME q1",
    "DROP STREAM IF EXISTS s DELETE TOPIC", "DROP TABLE t",
    "CREATE TYPE IF NOT EXISTS addr AS STRUCT<street STRING, n INT>", "DROP TYPE IF EXISTS addr",
    "ALTER STREAM s ADD COLUMN c INT, ADD d ARRAY<STRING>",
    "SET 'auto.offset.reset' = 'earliest'", "UNSET 'auto.offset.reset'",
    "DEFINE v = 'x'", "UNDEFINE v",
    "PRINT 'my-Topic' FROM BEGINNING INTERVAL 2 LIMIT 5", "PRINT tOpic",
    "ASSERT TOPIC 'x' WITH (partitions=1) TIMEOUT 3 SECONDS", "ASSERT NOT EXISTS TOPIC y",
    "ASSERT SCHEMA SUBJECT 'x-value' ID 3 TIMEOUT 1 MINUTE", "ASSERT NOT EXISTS SCHEMA ID 4",
    "ASSERT VALUES o (a, b) VALUES (1, 'x')", "ASSERT NULL VALUES o (k) KEY (1)",
    "ASSERT STREAM o (k INT KEY, v STRING) WITH (kafka_topic='o')",
    "CREATE SOURCE CONNECTOR IF NOT EXISTS c WITH ('connector.class'='x')", "DROP CONNECTOR IF EXISTS c",
]


@pytest.mark.parametrize("text", FAMILIES)
def test_family_round_trips(text: str) -> None:
    [statement] = parse(text)
    rendered = statement.sql()
    assert parse(rendered) == [statement], rendered


def test_run_script_needs_cli_mode() -> None:
    [statement] = parse("RUN SCRIPT '/tmp/x.sql';", cli=True)
    assert statement == RunScript("/tmp/x.sql")
    assert parse(statement.sql(), cli=True) == [statement]


def test_create_source_fields() -> None:
    [s] = parse(FAMILIES[1])
    assert isinstance(s, CreateSource)
    assert (s.kind, s.name, s.or_replace, s.if_not_exists, s.source) == ("TABLE", "t", True, True, True)
    assert s.columns == (
        ColumnDef("Id", SqlType("BIGINT"), primary_key=True),
        ColumnDef("H", SqlType("BYTES"), headers=True),
    )
    assert s.properties == {"KEY_FORMAT": "KAFKA", "REPLICAS": 1.5, "WRAP_SINGLE_VALUE": False}


def test_types() -> None:
    [s] = parse(FAMILIES[2])
    assert isinstance(s, CreateSource)
    inner = SqlType("STRUCT", fields=(("X", SqlType("INTEGER")), ("y", SqlType("DECIMAL", (4, 2)))))
    assert s.columns[0].type == SqlType("ARRAY", items=(SqlType("MAP", items=(SqlType("STRING"), inner)),))
    assert s.columns[1].type == SqlType("STRUCT")
    assert s.columns[2].type == SqlType("MY_TYPE")
    assert s.columns[3] == ColumnDef("D", SqlType("BYTES"), headers=True, header_key="k")


def test_select_clauses() -> None:
    [s] = parse(FAMILIES[5])
    assert isinstance(s, CreateAsSelect)
    sel = s.select
    assert sel.window == WindowSpec("HOPPING", 60_000, 10_000, 2 * 86_400_000, 0)
    assert sel.group_by == (exp.column("K"),)
    assert sel.emit == "FINAL" and sel.having is not None and sel.items[1].alias == "C"


def test_joins() -> None:
    [s] = parse(FAMILIES[7])
    assert isinstance(s, CreateAsSelect)
    joins = s.select.joins
    assert [j.kind for j in joins] == ["LEFT", "FULL", "INNER"]
    assert joins[0].within == JoinWindow(1_000, 7_200_000, 300_000)
    assert joins[1].within == JoinWindow(10, 10)
    assert joins[2].within is None and joins[0].right.name == "R"


def test_pull_and_push_queries() -> None:
    pull, push = parse("SELECT * FROM t WHERE k = 1; SELECT * FROM s EMIT CHANGES LIMIT 3;")
    assert isinstance(pull, Query) and pull.select.emit is None
    assert isinstance(push, Query) and (push.select.emit, push.select.limit) == ("CHANGES", 3)


def test_misc_statement_fields() -> None:
    statements = parse(";".join(FAMILIES[14:]))
    expected_types = {
        Show, Describe, Explain, Terminate, PauseResume, Drop, CreateType, DropType, AlterSource,
        SetProperty, UnsetProperty, Define, Undefine, Print, AssertTopic, AssertSchema,
        AssertValues, AssertStream, ConnectorStatement,
    }
    assert {type(s) for s in statements} == expected_types
    assert Show("TOPICS", extended=True, all_topics=True) in statements
    assert Show("CONNECTORS", connector_type="SINK") in statements
    assert Print("tOpic") in statements
    assert Print("my-Topic", True, 2, 5) in statements
    assert Explain(query_id="CSAS_O_0") in statements
    assert SetProperty("auto.offset.reset", "earliest") in statements
    assert AssertSchema("x-value", 3, True, 60_000) in statements
    assert AssertValues("O", ("K",), (exp.Literal.number("1"),), null_values=True) in statements


def test_insert_values() -> None:
    [s] = parse(FAMILIES[9])
    assert s == InsertValues("O", ("A", "B"), (exp.Literal.number("1"), exp.Literal.string("x'y")))
    [i] = parse(FAMILIES[8])
    assert isinstance(i, InsertInto) and i.properties == {"QUERY_ID": "q1"}
