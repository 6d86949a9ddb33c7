"""Test records <-> bytes: how the runner writes QTT inputs and reads outputs in a source's formats.

QTT files give keys and values as logical JSON (objects for JSON values, strings for
DELIMITED, numbers for KAFKA keys). These helpers turn one such value into the bytes the format
would carry, and bytes back into the same logical form, for comparison. This is test-harness
code, per record by nature (a test case has a handful of records).
"""

from __future__ import annotations

import base64
import json
import struct
from decimal import Decimal
from typing import Any

from engine.catalog import Source
from parser.statements import SqlType


def dump_json(value: Any) -> str:
    """JSON text of a logical value, keeping Decimal digits exactly."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ",".join(dump_json(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dump_json(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def _kafka_bytes(value: Any, sql_type: SqlType | None) -> bytes:
    base = sql_type.base if sql_type is not None else "STRING"
    if isinstance(value, str) and base != "BYTES":
        return value.encode()
    if base == "INTEGER":
        return struct.pack(">i", int(value))
    if base == "BIGINT":
        return struct.pack(">q", int(value))
    if base == "DOUBLE":
        return struct.pack(">d", float(value))
    if base == "BYTES":
        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    return dump_json(value).encode() if not isinstance(value, str) else value.encode()


def encode_test_value(value: Any, fmt: str, types: list[SqlType]) -> bytes | None:
    """Bytes for a logical key or value in ``fmt`` (``types``: the source's columns of that side)."""
    if value is None:
        return None
    if fmt in ("JSON", "JSON_SR"):
        return dump_json(value).encode()
    if fmt == "DELIMITED":
        return str(value).encode() if not isinstance(value, str) else value.encode()
    if fmt == "KAFKA":
        return _kafka_bytes(value, types[0] if types else None)
    if fmt == "NONE":
        return None
    return dump_json(value).encode()


def _kafka_value(data: bytes, sql_type: SqlType | None) -> Any:
    base = sql_type.base if sql_type is not None else "STRING"
    if base == "INTEGER" and len(data) == 4:
        return struct.unpack(">i", data)[0]
    if base == "BIGINT" and len(data) == 8:
        return struct.unpack(">q", data)[0]
    if base == "DOUBLE" and len(data) == 8:
        return Decimal(repr(struct.unpack(">d", data)[0]))
    if base == "BYTES":
        return base64.b64encode(data).decode()
    return data.decode("utf-8", errors="replace")


def decode_test_value(data: bytes | None, fmt: str, types: list[SqlType]) -> Any:
    """The logical form of bytes written in ``fmt``, as QTT files write expected outputs."""
    if data is None:
        return None
    if fmt in ("JSON", "JSON_SR"):
        try:
            return json.loads(data, parse_float=Decimal)
        except ValueError:
            return data.decode("utf-8", errors="replace")
    if fmt == "KAFKA":
        return _kafka_value(data, types[0] if types else None)
    return data.decode("utf-8", errors="replace")


def source_for_topic(sources: list[Source], topic: str) -> Source | None:
    """The first registered source over ``topic``."""
    for src in sources:
        if src.topic == topic:
            return src
    return None


def values_equal(expected: Any, actual: Any) -> bool:
    """Logical equality: numbers by value, containers element-wise, dict keys exactly."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or (type(expected) is type(actual) and expected == actual)
    if isinstance(expected, int | float | Decimal) and isinstance(actual, int | float | Decimal):
        return Decimal(str(expected)) == Decimal(str(actual))
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(values_equal(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() == actual.keys():
            return all(values_equal(v, actual[k]) for k, v in expected.items())
        # ksqlDB's test framework reads expected JSON through the sink's deserializer, which
        # matches field names case-insensitively; do the same when the spellings differ.
        upper = {str(k).upper(): v for k, v in actual.items()}
        if len(upper) != len(actual) or {str(k).upper() for k in expected} != upper.keys():
            return False
        return all(values_equal(v, upper[str(k).upper()]) for k, v in expected.items())
    return bool(expected == actual)
