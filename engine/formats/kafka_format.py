"""ksqlDB's KAFKA format: one primitive column in Kafka's own serializer encodings.

INTEGER is 4 bytes big-endian, BIGINT and DOUBLE 8 bytes big-endian (IEEE 754 for DOUBLE),
STRING UTF-8, BYTES raw. Conversion is vectorised: fixed-width values are reinterpreted from the
binary array's data buffer and byte-swapped with integer kernels. A value of the wrong size is
an error with Kafka's deserializer message; invalid UTF-8 is replaced (as Java's decoder does).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from engine.formats.base import Column, Decoded, assemble, check_key_maps, column_list, key_schema_error
from engine.formats.base import empty_columns_table as _empty
from engine.formats.errors import FormatError
from engine.formats.text import sequence

SUPPORTED = ("INTEGER", "BIGINT", "DOUBLE", "STRING", "BYTES")
_WIDTH = {"INTEGER": 4, "BIGINT": 8, "DOUBLE": 8}
_DESERIALIZER = {"INTEGER": "IntegerDeserializer", "BIGINT": "LongDeserializer", "DOUBLE": "Deserializer"}


def _swap(x: pa.Array) -> pa.Array:
    """Byte-swap uint32/uint64 values (big-endian <-> native); nulls come back as values."""
    return pa.array(x.to_numpy(zero_copy_only=False).byteswap(), x.type)


def _fixed(values: pa.Array, width: int) -> pa.Array:
    """Values that are all ``width`` bytes, reinterpreted as big-endian unsigned ints."""
    utype = pa.uint32() if width == 4 else pa.uint64()
    if len(values) == 0:
        return pa.array([], utype)
    _, offsets, data = values.buffers()
    first = pa.Array.from_buffers(pa.int32(), 1, [None, offsets], offset=values.offset)[0].as_py()
    raw = pa.Array.from_buffers(utype, len(values), [None, data.slice(first, len(values) * width)])
    return _swap(raw)


def _decode_fixed(values: pa.Array, base: str) -> tuple[pa.Array, dict[int, str]]:
    width = _WIDTH[base]
    good = pc.equal(pc.binary_length(values), width)
    target = pa.int32() if base == "INTEGER" else pa.int64() if base == "BIGINT" else pa.float64()
    if bool(pc.all(good).as_py()):
        return _fixed(values, width).view(target), {}
    decoded = _fixed(values.filter(good), width).view(target)
    out = pc.replace_with_mask(pa.nulls(len(values), target), good, decoded)
    message = f"Size of data received by {_DESERIALIZER[base]} is not {width}"
    bad = pc.indices_nonzero(pc.invert(good)).to_pylist()
    return out, dict.fromkeys(bad, message)


def _decode_string(values: pa.Array) -> pa.Array:
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        text = [v.decode("utf-8", errors="replace") for v in values.to_pylist()]
        return pa.array(text, pa.string())


def _encode_fixed(col: pa.Array, base: str) -> pa.Array:
    n = len(col)
    width = _WIDTH[base]
    if base == "DOUBLE":
        raw = col.cast(pa.float64()).fill_null(0.0).view(pa.uint64())
    else:
        raw = col.cast(pa.int32() if width == 4 else pa.int64()).fill_null(0)
        raw = raw.view(pa.uint32() if width == 4 else pa.uint64())
    swapped = _swap(raw)
    offsets = pc.multiply(sequence(n + 1), width).cast(pa.int32())
    data = swapped.buffers()[1].slice(swapped.offset * width, n * width)
    out = pa.Array.from_buffers(pa.binary(), n, [None, offsets.buffers()[1], data])
    return pc.if_else(pc.is_null(col), pa.scalar(None, pa.binary()), out) if col.null_count else out


class KafkaFormat:
    """The KAFKA format (see the module docstring)."""

    def __init__(self, is_key: bool) -> None:
        self._is_key = is_key

    @property
    def name(self) -> str:
        return "KAFKA"

    @property
    def is_key(self) -> bool:
        return self._is_key

    def validate(self, columns: list[Column]) -> None:
        """One column of INTEGER, BIGINT, DOUBLE, STRING or BYTES (or none)."""
        if self._is_key:
            check_key_maps(columns)
        reason = None
        if len(columns) > 1:
            reason = (
                f"The 'KAFKA' format only supports a single field. Got: {column_list(columns, self._is_key)}"
            )
        elif columns and columns[0][1].base not in SUPPORTED:
            reason = f"The 'KAFKA' format does not support type '{columns[0][1].base}'"
        if reason is not None:
            raise key_schema_error("KAFKA", columns, reason) if self._is_key else FormatError(reason)

    def decode(self, data: pa.Array, columns: list[Column]) -> Decoded:
        """Decode one primitive column; a null input is a null row."""
        data = data.cast(pa.binary()) if data.type != pa.binary() else data
        if not columns:
            return assemble(data, lambda v: (_empty(len(v)), {}, []))
        name, t = columns[0]
        schema = pa.schema([pa.field(name, pa.int32() if t.base == "INTEGER" else _arrow(t.base))])

        def present(values: pa.Array) -> tuple[pa.Table, dict[int, str], list[int]]:
            errors: dict[int, str] = {}
            if t.base in _WIDTH:
                col, errors = _decode_fixed(values, t.base)
            elif t.base == "STRING":
                col = _decode_string(values)
            else:
                col = values
            return pa.Table.from_arrays([col], schema=schema), errors, []

        return assemble(data, present)

    def encode(self, table: pa.Table, columns: list[Column], null_rows: pa.Array | None = None) -> pa.Array:
        """Encode the single column; null values (and ``null_rows``) give null bytes."""
        if not columns:
            return pa.nulls(table.num_rows, pa.binary())
        name, t = columns[0]
        col = table.column(name).combine_chunks()
        out = _encode_fixed(col, t.base) if t.base in _WIDTH else col.cast(pa.binary())
        if null_rows is not None:
            out = pc.if_else(pc.fill_null(null_rows, False), pa.scalar(None, pa.binary()), out)
        return out


def _arrow(base: str) -> pa.DataType:
    return {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "STRING": pa.string(), "BYTES": pa.binary()}[base]
