"""JSON format: ksqlDB coercions, case-insensitive fields, wrapping, nulls, bad records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import orjson
import pyarrow as pa
import pytest

from engine import types as T
from engine.formats import get_format
from engine.formats.base import Column

VALUE = get_format("JSON", {}, is_key=False)


def _data(*values: object) -> pa.Array:
    return pa.array(
        [v if v is None or isinstance(v, bytes) else orjson.dumps(v) for v in values], pa.binary()
    )


def test_case_insensitive_fields_missing_and_unknown() -> None:
    cols: list[Column] = [("FOO", T.INTEGER), ("BAR", T.STRING), ("baz", T.STRING)]
    d = VALUE.decode(_data({"foo": 1, "Bar": "x", "BAZ": "no", "other": 5}, {"FOO": 2}), cols)
    assert d.table.to_pylist() == [{"FOO": 1, "BAR": "x", "baz": None}, {"FOO": 2, "BAR": None, "baz": None}]
    assert d.errors == [] and d.kept.to_pylist() == [0, 1]


def test_exact_name_wins_over_case_variant() -> None:
    d = VALUE.decode(_data({"foo": 1, "FOO": 2}), [("FOO", T.INTEGER)])
    assert d.table.column("FOO").to_pylist() == [2]


def test_coercions_like_ksqldb() -> None:
    cols: list[Column] = [
        ("S", T.STRING),
        ("I", T.INTEGER),
        ("B", T.BIGINT),
        ("D", T.DOUBLE),
        ("Z", T.BOOLEAN),
        ("A", T.array(T.STRING)),
    ]
    d = VALUE.decode(
        _data({"S": 1.0, "I": "7", "B": 2.9, "D": "2.5", "Z": "TRUE", "A": [1, True, {"x": 1}]}), cols
    )
    assert d.errors == []
    assert d.table.to_pylist() == [
        {"S": "1.0", "I": 7, "B": 2, "D": 2.5, "Z": True, "A": ["1", "true", '{"x":1}']}
    ]


def test_string_column_takes_object_text() -> None:
    d = VALUE.decode(_data({"S": {"a": [1, 2]}}), [("S", T.STRING)])
    assert d.table.column("S").to_pylist() == ['{"a":[1,2]}']


def test_decimal_time_types_and_bytes() -> None:
    cols: list[Column] = [
        ("M", T.decimal(6, 4)),
        ("N", T.decimal(4, 2)),
        ("TS", T.TIMESTAMP),
        ("DT", T.DATE),
        ("TM", T.TIME),
        ("BY", T.BYTES),
    ]
    d = VALUE.decode(_data({"M": 12.365, "N": "10.1", "TS": 1000, "DT": 10, "TM": 5000, "BY": "IQ=="}), cols)
    assert d.errors == []
    assert d.table.to_pylist() == [
        {
            "M": Decimal("12.3650"),
            "N": Decimal("10.10"),
            "TS": dt.datetime(1970, 1, 1, 0, 0, 1),
            "DT": dt.date(1970, 1, 11),
            "TM": dt.time(0, 0, 5),
            "BY": b"!",
        }
    ]
    assert d.table.schema == pa.schema([pa.field(n, T.to_arrow(t)) for n, t in cols])


def test_decimal_that_needs_rounding_is_an_error() -> None:
    d = VALUE.decode(_data({"M": 12.36512}), [("M", T.decimal(6, 4))])
    assert d.table.num_rows == 0 and d.errors[0][0] == 0 and "Cannot fit decimal" in d.errors[0][1]


def test_nested_struct_array_map_case_insensitive() -> None:
    cols: list[Column] = [
        ("S", T.struct([("A", T.DOUBLE), ("IN", T.struct([("X", T.INTEGER)]))])),
        ("L", T.array(T.struct([("F", T.INTEGER)]))),
        ("M", T.map_of(T.STRING, T.INTEGER)),
    ]
    value = {"s": {"a": 45.67, "in": {"x": 1}}, "l": [{"f": 1}, None, {"F": 3}], "m": {"a": 1, "B": None}}
    d = VALUE.decode(_data(value), cols)
    assert d.errors == []
    assert d.table.to_pylist() == [
        {"S": {"A": 45.67, "IN": {"X": 1}}, "L": [{"F": 1}, None, {"F": 3}], "M": [("a", 1), ("B", None)]}
    ]


def test_tombstones_json_null_and_empty_are_null_rows() -> None:
    d = VALUE.decode(_data({"V": 1}, None, b"null", b""), [("V", T.INTEGER)])
    assert d.kept.to_pylist() == [0, 1, 2, 3]
    assert d.is_null.to_pylist() == [False, True, True, True]
    assert d.table.column("V").to_pylist() == [1, None, None, None]


def test_bad_records_are_errors_and_good_ones_survive() -> None:
    good = [{"V": i} for i in range(1000)]
    values = [orjson.dumps(v) for v in good]
    values[10] = b"{not json"
    values[500] = b'{"V": "abc"}'
    values[999] = b"[1, 2]"
    d = VALUE.decode(pa.array(values, pa.binary()), [("V", T.INTEGER)])
    assert [i for i, _ in d.errors] == [10, 500, 999]
    assert "Invalid JSON" in d.errors[0][1]
    assert "INTEGER" in d.errors[1][1]
    assert d.kept.to_pylist() == [i for i in range(1000) if i not in (10, 500, 999)]
    assert d.table.column("V").to_pylist() == d.kept.to_pylist()


def test_unwrapped_values_and_keys() -> None:
    unwrapped = get_format("JSON", {"WRAP_SINGLE_VALUE": False}, is_key=False)
    for t, value in [
        (T.BOOLEAN, True),
        (T.BIGINT, 10827272222),
        (T.array(T.DOUBLE), [10.1]),
        (T.STRING, "hey"),
    ]:
        d = unwrapped.decode(_data(value, None), [("V", t)])
        assert d.table.column("V").to_pylist() == [value, None]
        assert d.is_null.to_pylist() == [False, True]
        assert unwrapped.encode(d.table, [("V", t)]).to_pylist() == [orjson.dumps(value), None]
    key = get_format("JSON", {}, is_key=True)
    d = key.decode(_data({"f": 45.67}), [("K", T.struct([("F", T.DOUBLE)]))])
    assert d.table.column("K").to_pylist() == [{"F": 45.67}]
    assert key.encode(d.table, [("K", T.struct([("F", T.DOUBLE)]))]).to_pylist() == [b'{"F":45.67}']
    multi = key.encode(pa.table({"A": [1], "B": ["x"]}), [("A", T.INTEGER), ("B", T.STRING)])
    assert multi.to_pylist() == [b'{"A":1,"B":"x"}']


def test_wrapped_single_value_stays_an_object() -> None:
    d = VALUE.decode(_data({"FOO": ["a", None]}, {"FOO": None}), [("FOO", T.array(T.STRING))])
    assert VALUE.encode(d.table, [("FOO", T.array(T.STRING))]).to_pylist() == [
        b'{"FOO":["a",null]}',
        b'{"FOO":null}',
    ]


def test_encode_types_like_jackson() -> None:
    cols: list[Column] = [
        ("i", T.INTEGER),
        ("D", T.DOUBLE),
        ("E", T.DOUBLE),
        ("M", T.decimal(5, 3)),
        ("S", T.STRING),
        ("TS", T.TIMESTAMP),
        ("DT", T.DATE),
        ("TM", T.TIME),
        ("BY", T.BYTES),
        ("Z", T.BOOLEAN),
    ]
    table = pa.table(
        {
            "i": pa.array([1], pa.int32()),
            "D": [1.0],
            "E": [1e10],
            "M": pa.array([Decimal("10.120")], pa.decimal128(5, 3)),
            "S": ['a"b\\c\n'],
            "TS": pa.array([1000], pa.timestamp("ms")),
            "DT": pa.array([dt.date(1970, 1, 11)], pa.date32()),
            "TM": pa.array([dt.time(0, 0, 5)], pa.time32("ms")),
            "BY": [b"!"],
            "Z": [False],
        }
    )
    out = VALUE.encode(table, cols).to_pylist()[0]
    assert out == (
        b'{"i":1,"D":1.0,"E":1.0E10,"M":10.120,"S":"a\\"b\\\\c\\n","TS":1000,"DT":10,"TM":5000,'
        b'"BY":"IQ==","Z":false}'
    )
    assert orjson.loads(out)["S"] == 'a"b\\c\n'


def test_encode_nested_and_null_rows() -> None:
    cols: list[Column] = [
        ("S", T.struct([("A", T.decimal(4, 2)), ("T", T.TIMESTAMP)])),
        ("M", T.map_of(T.STRING, T.DOUBLE)),
    ]
    arrow = pa.schema([pa.field(n, T.to_arrow(t)) for n, t in cols])
    table = pa.Table.from_pylist(
        [{"S": {"A": Decimal("1.50"), "T": 5}, "M": [("a", 1.0)]}, {"S": None, "M": None}], schema=arrow
    )
    out = VALUE.encode(table, cols, null_rows=pa.array([False, True]))
    assert out.to_pylist() == [b'{"S":{"A":1.50,"T":5},"M":{"a":1.0}}', None]


@pytest.mark.parametrize("n", [1, 3, 10_000])
def test_round_trip(n: int) -> None:
    cols: list[Column] = [
        ("ID", T.INTEGER),
        ("NAME", T.STRING),
        ("PRICE", T.DOUBLE),
        ("TAGS", T.array(T.STRING)),
    ]
    rows = [
        {"ID": i, "NAME": f"n{i}é", "PRICE": i / 4, "TAGS": [str(i)] if i % 3 else None} for i in range(n)
    ]
    table = pa.Table.from_pylist(rows, schema=pa.schema([pa.field(c, T.to_arrow(t)) for c, t in cols]))
    encoded = VALUE.encode(table, cols)
    decoded = VALUE.decode(encoded, cols)
    assert decoded.errors == [] and decoded.table.equals(table)


@pytest.mark.parametrize("offset", [0, 2])
def test_encode_strings_escaped_only_where_needed_in_sliced_tables(offset: int) -> None:
    texts = ["plain", 'say "hi"', "back\\slash", "line\nbreak", None, "é€", "", "ctl\x01"]
    cols: list[Column] = [("A", T.STRING), ("B", T.STRING), ("N", T.INTEGER)]
    # B is plain text without nulls (its quotes join the field-name literals); A needs escaping.
    table = pa.table({"A": texts, "B": [f"b{i}" for i in range(len(texts))], "N": list(range(len(texts)))})
    table = table.slice(offset)
    out = VALUE.encode(table, cols)
    expected = [orjson.dumps(dict(zip(["A", "B", "N"], row, strict=True)))
                for row in zip(*(table.column(c).to_pylist() for c in ("A", "B", "N")), strict=True)]
    assert out.to_pylist() == expected
