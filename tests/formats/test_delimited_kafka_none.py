"""DELIMITED (Commons CSV quoting, as in the QTT corpus), KAFKA (Kafka serializers), NONE."""

from __future__ import annotations

import struct
from decimal import Decimal

import pyarrow as pa
import pytest

from engine import types as T
from engine.formats import get_format
from engine.formats.base import Column
from engine.formats.text import java_double

CSV = get_format("DELIMITED", {}, is_key=False)


def _table(cols: list[Column], rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=pa.schema([pa.field(n, T.to_arrow(t)) for n, t in cols]))


def test_delimited_decode_types_and_nulls() -> None:
    cols: list[Column] = [
        ("B", T.BOOLEAN),
        ("I", T.INTEGER),
        ("BI", T.BIGINT),
        ("D", T.DOUBLE),
        ("S", T.STRING),
    ]
    d = CSV.decode(pa.array([b"true,10,101,10.3,bob", b",,,,", None]), cols)
    assert d.table.to_pylist() == [
        {"B": True, "I": 10, "BI": 101, "D": 10.3, "S": "bob"},
        dict.fromkeys(["B", "I", "BI", "D", "S"]),
        dict.fromkeys(["B", "I", "BI", "D", "S"]),
    ]
    assert d.is_null.to_pylist() == [False, False, True]
    assert CSV.encode(d.table.slice(0, 1), cols).to_pylist() == [b"true,10,101,10.3,bob"]


def test_delimited_decimal_keeps_scale_and_dates() -> None:
    cols: list[Column] = [("M", T.decimal(6, 4)), ("DT", T.DATE), ("TS", T.TIMESTAMP), ("BY", T.BYTES)]
    d = CSV.decode(pa.array([b"10.0000,10,1589234313000,IQ==", b"01.00,-10,100,"]), cols)
    assert d.errors == []
    assert d.table.column("M").to_pylist() == [Decimal("10.0000"), Decimal("1.0000")]
    assert CSV.encode(d.table, cols).to_pylist() == [b"10.0000,10,1589234313000,IQ==", b"1.0000,-10,100,"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["!", "IQ==", "!"], b'"!",IQ==,"!"'),
        (["-10"], b'"-10"'),
        (["0", "-2147483647"], b"0,-2147483647"),
        ([None, None, "100"], b",,100"),
        ([None, None], b","),
        (["", ""], b'"",'),
        (['" + x', "a,b"], b'""" + x","a,b"'),
        (["a", "#b", "c "], b'a,"#b","c "'),
        (["a\nb", "é"], '"a\nb",é'.encode()),
    ],
)
def test_delimited_quoting_like_commons_csv(values: list[str | None], expected: bytes) -> None:
    cols: list[Column] = [(f"C{i}", T.STRING) for i in range(len(values))]
    table = _table(cols, [{f"C{i}": v for i, v in enumerate(values)}])
    encoded = CSV.encode(table, cols)
    assert encoded.to_pylist() == [expected]
    back = CSV.decode(encoded, cols).table.to_pylist()[0]
    assert back == {f"C{i}": (v or None) for i, v in enumerate(values)}


def test_delimited_doubles_print_like_java() -> None:
    values = [0.0, 4.9e-324, -4.9e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 10.0, 1e7, 0.001]
    cols: list[Column] = [(f"D{i}", T.DOUBLE) for i in range(len(values))]
    out = CSV.encode(_table(cols, [{f"D{i}": v for i, v in enumerate(values)}]), cols).to_pylist()[0]
    assert out == b"0.0,4.9E-324,-4.9E-324,2.2250738585072014E-308,1.7976931348623157E308,10.0,1.0E7,0.001"


def test_java_double_matches_python_value() -> None:
    for x in [1.5e-5, 123456.789, 9999999.999, 1e21, -3.25e-7, 0.1, 1 / 3]:
        assert float(java_double(x)) == x


def test_delimited_bad_records() -> None:
    cols: list[Column] = [("A", T.INTEGER), ("B", T.STRING)]
    d = CSV.decode(pa.array([b"1,x", b"2", b"zz,y", b"4,w", b"5,a,b"]), cols)
    assert [i for i, _ in d.errors] == [1, 2, 4]
    assert "csvFields:1 schemaFields:2" in d.errors[0][1]
    assert "'zz'" in d.errors[1][1]
    assert d.kept.to_pylist() == [0, 3]
    assert d.table.to_pylist() == [{"A": 1, "B": "x"}, {"A": 4, "B": "w"}]


def test_custom_delimiters() -> None:
    cols: list[Column] = [("A", T.INTEGER), ("B", T.STRING)]
    for prop, delim in [("|", b"|"), ("TAB", b"\t"), ("SPACE", b" ")]:
        fmt = get_format("DELIMITED", {"VALUE_DELIMITER": prop}, is_key=False)
        d = fmt.decode(pa.array([b"1" + delim + b"x y" if delim != b" " else b'1 "x y"']), cols)
        assert d.table.to_pylist() == [{"A": 1, "B": "x y"}]
        encoded = fmt.encode(d.table, cols).to_pylist()[0]
        assert fmt.decode(pa.array([encoded]), cols).table.equals(d.table)


def test_delimited_multi_column_key() -> None:
    key = get_format("DELIMITED", {}, is_key=True)
    cols: list[Column] = [("K1", T.INTEGER), ("K2", T.STRING), ("K3", T.INTEGER)]
    assert key.encode(_table(cols, [{"K1": -1, "K2": "a", "K3": 1}]), cols).to_pylist() == [b'"-1",a,1']


@pytest.mark.parametrize(
    ("t", "values", "fmt"),
    [
        (T.INTEGER, [1, -2, None, 2**31 - 1], ">i"),
        (T.BIGINT, [5_000_000_000, -1, None], ">q"),
        (T.DOUBLE, [2.2, -0.5, None, 532.8738323], ">d"),
    ],
)
def test_kafka_fixed_width_big_endian(t: object, values: list[object], fmt: str) -> None:
    kafka = get_format("KAFKA", {}, is_key=True)
    cols: list[Column] = [("K", t)]  # type: ignore[list-item]
    encoded = kafka.encode(_table(cols, [{"K": v} for v in values]), cols)
    assert encoded.to_pylist() == [None if v is None else struct.pack(fmt, v) for v in values]
    d = kafka.decode(encoded, cols)
    assert d.table.column("K").to_pylist() == values
    assert d.is_null.to_pylist() == [v is None for v in values]


def test_kafka_string_bytes_and_errors() -> None:
    kafka = get_format("KAFKA", {}, is_key=False)
    d = kafka.decode(pa.array([b"bar", b"\xff", None]), [("V", T.STRING)])
    assert d.table.column("V").to_pylist() == ["bar", "\ufffd", None]
    d = kafka.decode(pa.array([b"\x00\x01"]), [("V", T.BYTES)])
    assert d.table.column("V").to_pylist() == [b"\x00\x01"]
    d = kafka.decode(pa.array([b"\x00\x00\x00\x07", b"\x01", b"\x00\x00\x00\x08"]), [("V", T.INTEGER)])
    assert d.errors == [(1, "Size of data received by IntegerDeserializer is not 4")]
    assert d.kept.to_pylist() == [0, 2] and d.table.column("V").to_pylist() == [7, 8]


def test_kafka_sliced_input() -> None:
    kafka = get_format("KAFKA", {}, is_key=True)
    data = pa.array([struct.pack(">q", i) for i in range(10)]).slice(3, 4)
    assert kafka.decode(data, [("K", T.BIGINT)]).table.column("K").to_pylist() == [3, 4, 5, 6]


def test_none_format() -> None:
    none = get_format("NONE", {}, is_key=True)
    d = none.decode(pa.array([b"ignored", None, b""]), [])
    assert d.table.num_rows == 3 and d.table.num_columns == 0
    assert d.is_null.to_pylist() == [False, True, False]
    assert none.encode(pa.table({"X": [1, 2]}), []).to_pylist() == [None, None]
