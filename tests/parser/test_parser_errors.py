"""ParseError positions, formatting and ksqlDB's parse-time rejections."""

from __future__ import annotations

import pytest

from parser import ParseError, parse, parse_expression


def _error(text: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        parse(text)
    return info.value


def test_error_on_multi_line_input_shows_line_column_and_caret() -> None:
    text = "CREATE STREAM S (ID INT KEY) WITH (KAFKA_TOPIC='t');\nSELECT *\n  FROM S FOO BAR;"
    err = _error(text)
    assert (err.line, err.column) == (3, 14)
    lines = str(err).splitlines()
    assert lines[0].startswith("line 3:14: Syntax Error: mismatched input 'BAR'")
    assert lines[1] == "  FROM S FOO BAR;"
    assert lines[2] == " " * 13 + "^"


def test_caret_follows_tab_indentation() -> None:
    err = _error("SHOW STREAMS;\n\tSELECT * FRM s;")
    assert (err.line, err.column) == (2, 11)
    assert str(err).splitlines()[2] == "\t" + " " * 9 + "^"


def test_column_is_one_based_like_ksqldb() -> None:
    err = _error("SELECT * FROM riderLocations LIMIT heh;")
    assert (err.line, err.column) == (1, 36)


def test_error_at_end_of_input() -> None:
    err = _error("SELECT * FROM")
    assert "<EOF>" in err.message
    assert err.column == 14


def test_unknown_statement() -> None:
    err = _error("FOO BAR;")
    assert "Unknown statement 'FOO'" in err.message


def test_expression_errors() -> None:
    with pytest.raises(ParseError, match="expecting expression"):
        parse_expression("1 +")
    with pytest.raises(ParseError):
        parse_expression("a b")


def test_unterminated_string_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        parse("SELECT 'abc FROM s;")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CREATE TABLE I (ID INT KEY, N STRING) WITH (kafka_topic='i');",
         "Column `ID` is a 'KEY' column: please use 'PRIMARY KEY' for tables."),
        ("CREATE STREAM I (ID INT PRIMARY KEY) WITH (kafka_topic='i');",
         "Column `ID` is a 'PRIMARY KEY' column: please use 'KEY' for streams."),
        ("CREATE STREAM O AS SELECT 9223372036854775808 FROM I;", "Invalid numeric literal: 9223372036854775808"),
        ("CREATE STREAM O AS SELECT -9223372036854775809 FROM I;", "Invalid numeric literal: -9223372036854775809"),
        ("CREATE STREAM O AS SELECT 1.7976931348623159E308 FROM I;", "Number overflows DOUBLE"),
        ("CREATE STREAM O AS SELECT ID, cast(f0 as NULL) FROM T;", "mismatched input 'NULL'"),
        ("CREATE STREAM I (K STRING (KEY)) WITH (kafka_topic='i');", "expecting {'STRING', INTEGER_VALUE}"),
        ("CREATE TABLE O AS SELECT COUNT(*) FROM T GROUP BY DATA AND ID;", "mismatched input 'AND'"),
        ("CREATE TABLE O AS SELECT f1 FROM T GROUP BY f3, (f2, f1);", "mismatched input ','"),
        ("CREATE STREAM O AS SELECT * FROM EXPLODE(MY_ARR);", "mismatched input '('"),
        ("CREATE TABLE T (K STRING PRIMARY KEY, V INT) WITH (WINDOW_TYPE='Hopping', WINDOW_SIZE='30 bobs');",
         "Unknown time unit: 'BOBS'"),
        ("CREATE TABLE T (K STRING PRIMARY KEY) WITH (WINDOW_TYPE='Session', WINDOW_SIZE='30 seconds');",
         "'WINDOW_SIZE' should not be set for SESSION windows."),
        ("ASSERT VALUES foo (id INT) VALUES (123);", "mismatched input 'INT'"),
        ("RUN SCRIPT 'foo';", "Unknown statement 'RUN'"),
        ("SELECT * FROM t LIMIT 2.5;", "Value must be integer for command: LIMIT"),
    ],
)
def test_parse_time_rejections(text: str, message: str) -> None:
    assert message in _error(text).message


def test_negative_bigint_minimum_is_valid() -> None:
    parse("SELECT -9223372036854775808 FROM I;")


def test_mangled_corpus_statements_only_ever_raise_parse_error() -> None:
    """Truncated / mangled statements fail with ParseError, never with another exception."""
    import random

    from parser_qtt_corpus import CORPUS_DIR, load_cases

    if not CORPUS_DIR.is_dir():
        pytest.skip("corpus not available")
    rng = random.Random(7)
    statements = sorted({s for case in load_cases() for s in case.statements})[::5]
    noise = ["(", ")", ",", "'", "`", "->", "[", "*", "=>", ":=", "-", ".", '"', ";", "--", "/*", "1E"]
    for text in statements:
        cut = rng.randrange(len(text) + 1)
        for mangled in (text[:cut], text[:cut] + rng.choice(noise) + text[cut:]):
            try:
                parse(mangled)
            except ParseError:
                pass
