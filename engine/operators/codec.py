"""Raw topic batches <-> typed query batches, through the source's and sink's formats.

A decoded batch has one column per stored column (key, value, headers), the pseudo columns
ROWTIME, ROWPARTITION, ROWOFFSET (and WINDOWSTART/WINDOWEND for windowed sources), and
``__NULLVAL``: true where the record's value was null (a tombstone), which stream queries pass
through as a null value and table queries treat as a delete.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine import types as t
from engine.catalog import ROWOFFSET, ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART, Column, Source
from engine.duck import shared_instance
from engine.expressions import Scope, compile_expression
from engine.formats import get_format
from engine.runtime.processing_log import DESERIALIZATION_ERROR, ProcessingError
from engine.topics.base import RAW_SCHEMA
from parser import parse_expression

NULL_VALUE = "__NULLVAL"


def _cols(columns: list[Column]) -> list[tuple[str, t.SqlType]]:
    return [(c.name, c.type) for c in columns]


class SourceDecoder:
    """Decodes raw record batches of one source into typed batches."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._key_fmt = get_format(source.key_format, source.key_properties, is_key=True)
        self._value_fmt = get_format(source.value_format, source.value_properties, is_key=False)
        self._key_cols = _cols(source.key_columns)
        self._value_cols = _cols(source.value_columns)
        self.last_null_mask: pa.Array = pa.array([], pa.bool_())

    def decode(self, raw: pa.RecordBatch) -> tuple[pa.Table, list[ProcessingError]]:
        """Typed rows of the good records, and a processing error per bad one."""
        n = raw.num_rows
        key_bytes = raw.column("key")
        bounds: tuple[pa.Array, pa.Array] | None = None
        if self.source.window is not None:
            key_bytes, bounds = _split_windowed_keys(key_bytes, self.source.window.kind, self.source.window.size_ms)
        keys = self._key_fmt.decode(key_bytes, self._key_cols)
        values = self._value_fmt.decode(raw.column("value"), self._value_cols)
        errors = self._errors(raw, keys.errors, "key") + self._errors(raw, values.errors, "value")
        ok = np.zeros(n, dtype=bool)
        ok[keys.kept.to_numpy()] = True
        value_ok = np.zeros(n, dtype=bool)
        value_ok[values.kept.to_numpy()] = True
        ok &= value_ok
        rows = pa.array(np.flatnonzero(ok), pa.int64())
        key_pos = _positions(keys.kept, rows, n)
        value_pos = _positions(values.kept, rows, n)
        key_table = keys.table.take(key_pos) if self._key_cols else None
        value_table = values.table.take(value_pos) if self._value_cols else None
        is_null = values.is_null.take(value_pos)
        arrays: list[pa.Array | pa.ChunkedArray] = []
        names: list[str] = []
        for table in (key_table, value_table):
            if table is not None:
                arrays.extend(table.columns)
                names.extend(table.column_names)
        self._add_headers(raw, rows, arrays, names)
        arrays += [raw.column("timestamp").take(rows), raw.column("partition").take(rows),
                   raw.column("offset").take(rows), is_null]
        names += [ROWTIME, ROWPARTITION, ROWOFFSET, NULL_VALUE]
        if bounds is not None:
            arrays += [bounds[0].take(rows), bounds[1].take(rows)]
            names += [WINDOWSTART, WINDOWEND]
        self.last_null_mask = is_null
        table = pa.Table.from_arrays(arrays, names=names)
        table, ts_errors = self._apply_timestamp(table, raw)
        return table, errors + ts_errors

    def _errors(self, raw: pa.RecordBatch, errs: list[tuple[int, str]], target: str) -> list[ProcessingError]:
        if not errs:
            return []
        column = raw.column(target)
        out = []
        for row, message in errs:
            data = column[row].as_py()
            out.append(ProcessingError(DESERIALIZATION_ERROR, message, self.source.topic,
                                       raw.column("partition")[row].as_py(), raw.column("offset")[row].as_py(),
                                       data, target))
        return out

    def _add_headers(self, raw: pa.RecordBatch, rows: pa.Array, arrays: list, names: list[str]) -> None:
        headers = raw.column("headers").take(rows)
        for col in self.source.header_columns:
            if col.header_key is None:
                target = t.to_arrow(col.type)
                arrays.append(_headers_as(headers, target))
            else:
                arrays.append(_header_value(headers, col.header_key))
            names.append(col.name)

    def _apply_timestamp(self, table: pa.Table, raw: pa.RecordBatch) -> tuple[pa.Table, list[ProcessingError]]:
        """With TIMESTAMP='col', ROWTIME comes from that column; rows without one are skipped."""
        name = self.source.timestamp_column
        if name is None or name not in table.column_names:
            return table, []
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            ts = pc.cast(column, pa.timestamp("ms")).cast(pa.int64())
        elif pa.types.is_string(column.type):
            ts = _parse_timestamps(column, self.source.timestamp_format)
        else:
            ts = pc.cast(column, pa.int64())
        table = table.set_column(table.column_names.index(ROWTIME), ROWTIME, ts)
        valid = pc.and_(pc.is_valid(ts), pc.greater_equal(pc.fill_null(ts, -1), 0))
        if pc.all(valid).as_py():
            return table, []
        bad = pc.invert(valid)
        errors = [ProcessingError(DESERIALIZATION_ERROR, f"Invalid timestamp in column {name}", self.source.topic,
                                  p, o) for p, o in zip(table.filter(bad).column(ROWPARTITION).to_pylist(),
                                                        table.filter(bad).column(ROWOFFSET).to_pylist(), strict=True)]
        return table.filter(valid), errors


def _from_be64(data: pa.Array) -> pa.Array:
    """8 big-endian bytes per value -> int64 (nulls stay null)."""
    # A key too short to carry the window suffix decodes to a null bound (and fails key decoding).
    data = pc.if_else(pc.equal(pc.binary_length(data), 8), data, pa.scalar(None, pa.binary()))
    fixed = pc.fill_null(data, pa.scalar(b"\x00" * 8, pa.binary())).cast(pa.binary(8))
    flat = np.frombuffer(fixed.buffers()[1], dtype=">i8", count=len(fixed), offset=fixed.offset * 8)
    return pa.array(flat.astype(np.int64), pa.int64(), mask=pc.is_null(data).to_numpy(zero_copy_only=False))


def _split_windowed_keys(keys: pa.Array, kind: str, size_ms: int | None) -> tuple[pa.Array, tuple[pa.Array, pa.Array]]:
    """Kafka Streams' windowed key bytes -> (inner key bytes, (window starts, window ends))."""
    if kind == "SESSION":
        inner = pc.binary_slice(keys, 0, -16)
        ends = _from_be64(pc.binary_slice(keys, -16, -8))
        starts = _from_be64(pc.binary_slice(keys, -8))
    else:
        inner = pc.binary_slice(keys, 0, -8)
        starts = _from_be64(pc.binary_slice(keys, -8))
        ends = pc.add(starts, size_ms or 0)
    return inner, (starts, ends)


def _positions(kept: pa.Array, rows: pa.Array, n: int) -> pa.Array:
    """For each input row index in ``rows``, its position within ``kept``."""
    where = np.full(n, -1, dtype=np.int64)
    where[kept.to_numpy()] = np.arange(len(kept), dtype=np.int64)
    return pa.array(where[rows.to_numpy()], pa.int64())


def _headers_as(headers: pa.Array, target: pa.DataType) -> pa.Array:
    filled = pc.if_else(pc.is_null(headers), pa.scalar([], headers.type), headers)
    flat = filled.flatten()
    renamed = pa.StructArray.from_arrays([flat.field("key"), flat.field("value")],
                                         fields=list(target.value_type))
    return pa.ListArray.from_arrays(filled.offsets, renamed, type=target)


def _header_value(headers: pa.Array, key: str) -> pa.Array:
    """The last value of header ``key`` per row (ksqlDB's HEADER('k') semantics), or null."""
    out: list[bytes | None] = []
    # Headers are rare and short; a per-row walk here only runs for sources that declare them.
    for row in headers.to_pylist():
        value = None
        for h in row or []:
            if h["key"] == key:
                value = h["value"]
        out.append(value)
    return pa.array(out, pa.binary())


def _parse_timestamps(column: pa.ChunkedArray, fmt: str | None) -> pa.Array:
    """TIMESTAMP_FORMAT parsing through the same STRINGTOTIMESTAMP the SQL function uses."""
    pattern = (fmt or "yyyy-MM-dd'T'HH:mm:ss.SSS").replace("'", "''")
    expr = parse_expression(f"STRINGTOTIMESTAMP(TS, '{pattern}')")
    compiled = compile_expression(expr, Scope.of_columns([("TS", t.STRING)]))
    cursor = shared_instance().cursor()
    cursor.register("ts_batch", pa.table({"TS": column}))
    try:
        out = cursor.sql(f"SELECT {compiled.sql} AS ts FROM ts_batch").to_arrow_table()
    finally:
        cursor.close()
    return pc.cast(out.column("ts"), pa.int64()).combine_chunks()


class SinkEncoder:
    """Encodes typed output batches into raw record batches for a sink topic."""

    def __init__(self, sink: Source) -> None:
        self.sink = sink
        self._key_fmt = get_format(sink.key_format, sink.key_properties, is_key=True)
        self._value_fmt = get_format(sink.value_format, sink.value_properties, is_key=False)
        self._key_cols = _cols(sink.key_columns)
        self._value_cols = _cols(sink.value_columns)

    def _conform(self, table: pa.Table) -> pa.Table:
        for name, sql_type in self._key_cols + self._value_cols:
            if name in table.column_names:
                i = table.column_names.index(name)
                table = table.set_column(i, name, _conform_column(table.column(i), t.to_arrow(sql_type)))
        return table

    def encode(self, table: pa.Table, timestamps: pa.Array | pa.ChunkedArray,
               null_values: pa.Array | None = None, null_keys: bool = True,
               window: tuple[pa.ChunkedArray, pa.ChunkedArray, str] | None = None) -> pa.RecordBatch:
        """A raw batch (partition chosen by key) of the rows of ``table``.

        With ``null_keys``, a key whose columns are all null is written as no key (a source
        record without a key keeps having none); a key computed by PARTITION BY is written
        even when all its columns are null, as ksqlDB does.
        """
        n = table.num_rows
        table = self._conform(table)
        if null_values is None and NULL_VALUE in table.column_names:
            null_values = table.column(NULL_VALUE).combine_chunks()
        if self._key_cols:
            key_table = table.select([c for c, _ in self._key_cols])
            keys = self._key_fmt.encode(key_table, self._key_cols, _all_null(key_table) if null_keys else None)
        else:
            keys = pa.nulls(n, pa.binary())
        if window is not None:
            keys = _windowed_keys(_binary(keys), *window)
        values = self._value_fmt.encode(table.select([c for c, _ in self._value_cols]), self._value_cols,
                                        null_values)
        ts = timestamps.combine_chunks() if isinstance(timestamps, pa.ChunkedArray) else timestamps
        return pa.RecordBatch.from_arrays([
            pa.nulls(n, pa.int32()), pa.array(np.zeros(n, dtype=np.int64)), pc.cast(ts, pa.int64()),
            _binary(keys), _binary(values), pa.nulls(n, RAW_SCHEMA.field("headers").type),
        ], schema=RAW_SCHEMA)


def _conform_column(col: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """DuckDB hands back TIMESTAMP/TIME in microseconds and its own widths: cast to the SQL type's
    Arrow type, which is what the formats encode."""
    if col.type == target:
        return col
    if pa.types.is_time(col.type) and pa.types.is_time(target):
        micros = pc.cast(col, pa.time64("us")).cast(pa.int64())
        return pc.cast(pc.divide(micros, 1000), pa.int32()).cast(target)
    return pc.cast(col, target, safe=False)


def _be64(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Each int64 as 8 big-endian bytes (Kafka Streams' window bound encoding)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    raw = arr.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(">i8")
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(8), len(raw), [None, pa.py_buffer(raw.tobytes())])
    return fixed.cast(pa.binary())


def _windowed_keys(keys: pa.Array, starts: pa.ChunkedArray, ends: pa.ChunkedArray, kind: str) -> pa.Array:
    """Kafka Streams' windowed key: key bytes + start, or key + end + start for sessions."""
    empty = pa.scalar(b"", pa.binary())
    base = pc.fill_null(keys, empty)
    parts = [base, _be64(ends), _be64(starts)] if kind == "SESSION" else [base, _be64(starts)]
    return pc.binary_join_element_wise(*parts, empty)


def _all_null(table: pa.Table) -> pa.Array:
    """True where every column of the row is null."""
    mask = pc.is_null(table.column(0))
    for col in table.columns[1:]:
        mask = pc.and_(mask, pc.is_null(col))
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask


def _binary(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == pa.binary() else pc.cast(arr, pa.binary())
