"""parse / parse_with_source behaviour: splitting, comments, variables, speed."""

from __future__ import annotations

import time

import pytest
from sqlglot import exp

from parser import ParsedStatement, ParseError, parse, parse_with_source
from parser.statements import CreateSource, Define, Query


def test_parse_with_source_positions_and_text() -> None:
    text = "-- intro\nSHOW STREAMS;\n  /* c */ SELECT 'a;b' FROM s\n  EMIT CHANGES;\nLIST TABLES"
    parsed = parse_with_source(text)
    assert [(p.line, p.column) for p in parsed] == [(2, 1), (3, 11), (5, 1)]
    assert [p.text for p in parsed] == [
        "SHOW STREAMS;", "SELECT 'a;b' FROM s\n  EMIT CHANGES;", "LIST TABLES",
    ]
    assert isinstance(parsed[0], ParsedStatement)


def test_empty_and_comment_only_input() -> None:
    assert parse("") == []
    assert parse("-- nothing\n/* at all */") == []
    assert len(parse("SHOW STREAMS;;SHOW TABLES;")) == 2


def test_variables_from_argument_and_define() -> None:
    text = (
        "DEFINE fmt = 'JSON';\n"
        "CREATE STREAM ${name} (ID INT KEY) WITH (kafka_topic='${topic}', value_format='${FMT}');\n"
        "UNDEFINE fmt;\n"
        "SELECT '${fmt}' FROM s;"
    )
    statements = parse(text, {"name": "S1", "topic": "it's"})
    assert statements[0] == Define("FMT", "JSON")
    create = statements[1]
    assert isinstance(create, CreateSource) and create.name == "S1"
    assert create.properties == {"KAFKA_TOPIC": "it's", "VALUE_FORMAT": "JSON"}
    query = statements[3]
    assert isinstance(query, Query)
    assert query.select.items[0].expr == exp.Literal.string("${fmt}")  # undefined: left alone


def test_error_position_in_substituted_statement_refers_to_its_line() -> None:
    with pytest.raises(ParseError) as info:
        parse("SHOW TABLES;\nSELECT * FROM ${s} WHERE;", {"s": "X"})
    assert info.value.line == 2


def test_thousand_statement_script_is_fast() -> None:
    templates = [
        "CREATE STREAM S{i} (ID INT KEY, V STRUCT<A INT, B ARRAY<STRING>>) "
        "WITH (KAFKA_TOPIC='t{i}', VALUE_FORMAT='JSON', PARTITIONS=1);",
        "CREATE TABLE T{i} AS SELECT ID, COUNT(*) AS C, SUM(V->A) FROM S1 WINDOW TUMBLING (SIZE 1 MINUTE) "
        "WHERE V->B[1] LIKE 'x%' AND ID > {i} GROUP BY ID EMIT CHANGES;",
        "INSERT INTO S1 (ID, TS) VALUES ({i}, {i});",
        "SELECT A.ID, CASE WHEN A.V IS NULL THEN 'n' ELSE 'y' END AS Z FROM S1 A LEFT JOIN T1 B "
        "WITHIN 1 HOUR ON A.ID = B.ID WHERE A.TS BETWEEN 1 AND {i} PARTITION BY A.ID EMIT CHANGES;",
    ]
    script = "\n".join(templates[i % 4].format(i=i) for i in range(1000))
    start = time.perf_counter()
    statements = parse(script)
    elapsed = time.perf_counter() - start
    print(f"\nparsed 1,000 statements ({len(script):,} chars) in {elapsed:.3f} s")
    assert len(statements) == 1000
    assert elapsed < 5, f"1,000 statements took {elapsed:.3f} s"
