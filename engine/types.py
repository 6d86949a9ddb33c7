"""ksqlDB SQL types <-> Arrow types <-> DuckDB type text.

ksqlDB's types map one to one onto Arrow: INTEGER int32, BIGINT int64, DOUBLE float64,
DECIMAL(p, s) decimal128, STRING utf8, BYTES binary, DATE date32, TIME time32[ms],
TIMESTAMP timestamp[ms] (no zone: ksqlDB timestamps are UTC millis), ARRAY list, MAP map,
STRUCT struct (field names keep their case).
"""

from __future__ import annotations

import pyarrow as pa

from parser.statements import SqlType

BOOLEAN = SqlType("BOOLEAN")
INTEGER = SqlType("INTEGER")
BIGINT = SqlType("BIGINT")
DOUBLE = SqlType("DOUBLE")
STRING = SqlType("STRING")
BYTES = SqlType("BYTES")
DATE = SqlType("DATE")
TIME = SqlType("TIME")
TIMESTAMP = SqlType("TIMESTAMP")

_SIMPLE_TO_ARROW: dict[str, pa.DataType] = {
    "BOOLEAN": pa.bool_(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "STRING": pa.string(),
    "BYTES": pa.binary(),
    "DATE": pa.date32(),
    "TIME": pa.time32("ms"),
    "TIMESTAMP": pa.timestamp("ms"),
}

_SIMPLE_TO_DUCKDB: dict[str, str] = {
    "BOOLEAN": "BOOLEAN",
    "INTEGER": "INTEGER",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "STRING": "VARCHAR",
    "BYTES": "BLOB",
    "DATE": "DATE",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP",
}


class UnknownTypeError(ValueError):
    """A type name that is neither built in nor resolved (custom types must be resolved first)."""


def decimal(precision: int, scale: int) -> SqlType:
    """DECIMAL(precision, scale)."""
    return SqlType("DECIMAL", (precision, scale))


def array(item: SqlType) -> SqlType:
    """ARRAY<item>."""
    return SqlType("ARRAY", items=(item,))


def map_of(key: SqlType, value: SqlType) -> SqlType:
    """MAP<key, value>."""
    return SqlType("MAP", items=(key, value))


def struct(fields: list[tuple[str, SqlType]]) -> SqlType:
    """STRUCT<name type, ...>."""
    return SqlType("STRUCT", fields=tuple(fields))


def to_arrow(t: SqlType) -> pa.DataType:
    """The Arrow type that holds values of SQL type ``t``."""
    simple = _SIMPLE_TO_ARROW.get(t.base)
    if simple is not None:
        return simple
    if t.base == "DECIMAL":
        precision, scale = (t.params + (0, 0))[:2] if t.params else (38, 0)
        return pa.decimal128(precision, scale)
    if t.base == "ARRAY":
        return pa.list_(to_arrow(t.items[0]))
    if t.base == "MAP":
        return pa.map_(to_arrow(t.items[0]), to_arrow(t.items[1]))
    if t.base == "STRUCT":
        return pa.struct([pa.field(name, to_arrow(ft)) for name, ft in t.fields])
    raise UnknownTypeError(f"Unknown type: {t.base}")


def from_arrow(dt: pa.DataType) -> SqlType:
    """The SQL type of an Arrow type (inverse of ``to_arrow``, widening where ksqlDB has no match)."""
    if pa.types.is_boolean(dt):
        return BOOLEAN
    if pa.types.is_int8(dt) or pa.types.is_int16(dt) or pa.types.is_int32(dt):
        return INTEGER
    if pa.types.is_integer(dt):
        return BIGINT
    if pa.types.is_floating(dt):
        return DOUBLE
    if pa.types.is_decimal(dt):
        return decimal(dt.precision, dt.scale)
    if pa.types.is_string(dt) or pa.types.is_large_string(dt) or pa.types.is_string_view(dt):
        return STRING
    if pa.types.is_binary(dt) or pa.types.is_large_binary(dt) or pa.types.is_fixed_size_binary(dt):
        return BYTES
    if pa.types.is_date(dt):
        return DATE
    if pa.types.is_time(dt):
        return TIME
    if pa.types.is_timestamp(dt):
        return TIMESTAMP
    if pa.types.is_map(dt):
        return map_of(from_arrow(dt.key_type), from_arrow(dt.item_type))
    if pa.types.is_list(dt) or pa.types.is_large_list(dt) or pa.types.is_fixed_size_list(dt):
        return array(from_arrow(dt.value_type))
    if pa.types.is_struct(dt):
        return struct([(f.name, from_arrow(f.type)) for f in dt])
    if pa.types.is_null(dt):
        return STRING
    raise UnknownTypeError(f"No SQL type for Arrow type {dt}")


def to_duckdb(t: SqlType) -> str:
    """DuckDB type text for ``t`` (for CAST and CREATE TABLE)."""
    simple = _SIMPLE_TO_DUCKDB.get(t.base)
    if simple is not None:
        return simple
    if t.base == "DECIMAL":
        precision, scale = (t.params + (0, 0))[:2] if t.params else (38, 0)
        return f"DECIMAL({precision}, {scale})"
    if t.base == "ARRAY":
        return f"{to_duckdb(t.items[0])}[]"
    if t.base == "MAP":
        return f"MAP({to_duckdb(t.items[0])}, {to_duckdb(t.items[1])})"
    if t.base == "STRUCT":
        inner = ", ".join(f'"{name}" {to_duckdb(ft)}' for name, ft in t.fields)
        return f"STRUCT({inner})"
    raise UnknownTypeError(f"Unknown type: {t.base}")
