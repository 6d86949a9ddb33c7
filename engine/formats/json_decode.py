"""JSON bytes -> Arrow, a whole batch per pyarrow ``read_json`` call.

Fast path: the batch's values are joined into newline-delimited JSON in Arrow (no Python per
record) and read with an explicit schema; fields whose JSON name differs only in case from the
column arrive as extra inferred columns and are folded in; TIMESTAMP/DATE/TIME are read as
integers and cast, BYTES read as text and base64-decoded.

When the reader rejects the batch (a bad record, or a value ksqlDB would coerce such as a number
into a STRING column) the batch is bisected, so good halves stay on the fast path, and each
rejected record is parsed on its own with orjson and ``coerce`` (ksqlDB's rules): it either
decodes or becomes an error. Schemas with a MAP (which ``read_json`` cannot build) or BYTES
nested in a container go through the per-record path entirely.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from engine.formats.base import Column
from engine.formats.coerce import coerce, lookup, node_name
from engine.formats.errors import RecordError
from engine.formats.text import b64decode
from engine.types import to_arrow
from parser.statements import SqlType

_READ_AS = {"TIMESTAMP": pa.int64(), "DATE": pa.int32(), "TIME": pa.int32(), "BYTES": pa.string()}
_BLOCK = 1 << 24  # big enough that a typical batch is one block (fewer reader tasks)


class _Reject(Exception):
    """The batch reader could not take this slice as a whole."""


def read_type(t: SqlType, nested: bool = False) -> pa.DataType | None:
    """The Arrow type ``read_json`` should build for ``t``, or None if it cannot build one."""
    if t.base == "MAP" or (nested and t.base == "BYTES"):
        return None
    if t.base in _READ_AS:
        return _READ_AS[t.base]
    if t.base == "ARRAY":
        item = read_type(t.items[0], True)
        return None if item is None else pa.list_(item)
    if t.base == "STRUCT":
        fields = [(name, read_type(ft, True)) for name, ft in t.fields]
        if any(ft is None for _, ft in fields):
            return None
        return pa.struct([pa.field(name, ft) for name, ft in fields])
    return to_arrow(t)


def ndjson(values: pa.Array, prefix: bytes = b"", suffix: bytes = b"") -> pa.Buffer:
    """One buffer holding ``prefix + value + suffix + newline`` for every value (no nulls)."""
    parts: list[Any] = [values, pa.scalar(suffix + b"\n", pa.binary())]
    if prefix:
        parts.insert(0, pa.scalar(prefix, pa.binary()))
    joined = pc.binary_join_element_wise(*parts, pa.scalar(b"", pa.binary()))
    _, offsets, data = joined.buffers()
    bounds = pa.Array.from_buffers(pa.int32(), len(joined) + 1, [None, offsets], offset=joined.offset)
    start, end = bounds[0].as_py(), bounds[len(joined)].as_py()
    return data.slice(start, end - start)


class JsonDecoder:
    """Decodes present (non-null) JSON values for one column list; see the module docstring."""

    def __init__(self, columns: list[Column], unwrapped: bool) -> None:
        self._columns = columns
        self._unwrapped = unwrapped
        self._target = pa.schema([pa.field(name, to_arrow(t)) for name, t in columns])
        read = [(name, read_type(t)) for name, t in columns]
        self._fast = all(rt is not None for _, rt in read)
        self._read_types = {n: rt for n, rt in read if rt is not None}
        # JSON-side spelling of each column seen in earlier batches (e.g. "id" for ID): reading
        # it as an explicit field is much faster than inferring it as an unexpected one.
        self._alias = {name: name for name, _ in columns}
        self._read_schema = self._schema()
        self._prefix = b""
        self._suffix = b""
        if unwrapped:
            self._prefix = b"{" + orjson.dumps(columns[0][0]) + b":"
            self._suffix = b"}"

    def decode(self, values: pa.Array) -> tuple[pa.Table, dict[int, str], list[int]]:
        """Decode ``values`` (binary, no nulls).

        Returns:
            The table aligned with ``values`` (failed rows all null), ``{row: error}`` and the
            rows whose JSON was the literal ``null`` (to be treated as null inputs).
        """
        errors: dict[int, str] = {}
        nulls: list[int] = []
        pieces = self._decode_range(values, 0, errors, nulls)
        table = pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)
        return table, errors, nulls

    def _decode_range(
        self, values: pa.Array, base: int, errors: dict[int, str], nulls: list[int]
    ) -> list[pa.Table]:
        if self._fast and len(values):
            try:
                return [self._read(values)]
            except _Reject:
                if len(values) > 1:
                    half = len(values) // 2
                    return self._decode_range(
                        values.slice(0, half), base, errors, nulls
                    ) + self._decode_range(values.slice(half), base + half, errors, nulls)
        return [self._slow(values, base, errors, nulls)]

    def _read(self, values: pa.Array) -> pa.Table:
        buffer = ndjson(values, self._prefix, self._suffix)
        # The joined buffer holds one newline per value unless a value has its own (a pretty-
        # printed record, left to the per-record path); counting bytes is ~20x cheaper than a
        # substring search over the values.
        if np.count_nonzero(np.frombuffer(buffer, np.uint8) == 10) != len(values):
            raise _Reject
        options = pj.ParseOptions(explicit_schema=self._read_schema, unexpected_field_behavior="infer")
        try:
            table = pj.read_json(
                pa.BufferReader(buffer),
                read_options=pj.ReadOptions(use_threads=False, block_size=max(_BLOCK, buffer.size + 1)),
                parse_options=options,
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
            raise _Reject from e
        if table.num_rows != len(values):
            raise _Reject  # empty or multi-document values shift rows
        try:
            return self._finish(table)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, RecordError) as e:
            raise _Reject from e

    def _schema(self) -> pa.Schema:
        return pa.schema([pa.field(self._alias[n], rt) for n, rt in self._read_types.items()])

    def _finish(self, table: pa.Table) -> pa.Table:
        """Fold case-variant fields in (exact name first) and convert to the column types."""
        names = table.column_names
        arrays = []
        for (name, t), target in zip(self._columns, self._target, strict=True):
            read_t = self._read_types[name]
            found = [name] if name in names else []
            found += [other for other in names if other != name and other.upper() == name]
            col = pa.nulls(table.num_rows, read_t)
            for i, other in enumerate(found):
                part = _cast(_fold_struct(table.column(other).combine_chunks(), t), read_t)
                col = part if i == 0 else pc.coalesce(col, part)
            self._learn(name, found, table)
            arrays.append(_finish_column(col, t, target.type))
        return pa.Table.from_arrays(arrays, schema=self._target)

    def _learn(self, name: str, found: list[str], table: pa.Table) -> None:
        """Remember the spelling this batch used for ``name`` when it was not the exact one.

        The explicitly read column is all null when the JSON spells the field differently
        (``auction`` for ``AUCTION``): only columns with values count, else the spelling would
        never be learned and every batch would fall back to inferring every field.
        """
        present = [f for f in found if table.column(f).null_count < table.num_rows]
        if not present or present[0] == self._alias[name]:
            return
        if present[0] != name and present[0] in self._alias.values():
            return
        self._alias[name] = present[0]
        self._read_schema = self._schema()

    def _slow(self, values: pa.Array, base: int, errors: dict[int, str], nulls: list[int]) -> pa.Table:
        rows: list[dict[str, Any]] = []
        empty = dict.fromkeys(self._target.names)
        for i, raw in enumerate(values.to_pylist()):
            try:
                row = self.decode_one(raw)
            except RecordError as e:
                errors[base + i] = str(e)
                row = empty
            if row is None:
                nulls.append(base + i)
                row = empty
            rows.append(row)
        return pa.Table.from_pylist(rows, schema=self._target)

    def decode_one(self, raw: bytes) -> dict[str, Any] | None:
        """One record by ksqlDB's rules; None for a JSON ``null``; raises RecordError."""
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise RecordError(f"Invalid JSON: {e}") from None
        if parsed is None:
            return None
        if self._unwrapped:
            name, t = self._columns[0]
            return {name: coerce(parsed, t, "$")}
        if not isinstance(parsed, dict):
            raise RecordError(
                f"Can't convert type. sourceType: {node_name(parsed)}, requiredType: STRUCT, path: $"
            )
        return {name: coerce(lookup(parsed, name), t, f"$.{name}") for name, t in self._columns}


def _cast(col: pa.Array, to: pa.DataType) -> pa.Array:
    return col if col.type == to else col.cast(to)


def _fold_struct(col: pa.Array, t: SqlType) -> pa.Array:
    """Recursively fold case-variant struct children into the declared ones, dropping extras."""
    if t.base == "STRUCT" and pa.types.is_struct(col.type):
        have = [col.type.field(i).name for i in range(col.type.num_fields)]
        declared = dict(t.fields)
        children = []
        for name, ft in t.fields:
            # Exact spelling first, then case variants the schema does not declare itself.
            variants = [name] if name in have else []
            variants += [o for o in have if o != name and o.upper() == name and o not in declared]
            if not variants:
                children.append(pa.nulls(len(col), to_arrow(ft)))
                continue
            child = _fold_struct(col.field(variants[0]), ft)
            for other in variants[1:]:
                child = pc.coalesce(child, _cast(_fold_struct(col.field(other), ft), child.type))
            children.append(child)
        fields = [pa.field(name, c.type) for (name, _), c in zip(t.fields, children, strict=True)]
        return pa.StructArray.from_arrays(children, fields=fields, mask=pc.is_null(col))
    if t.base == "ARRAY" and pa.types.is_list(col.type):
        inner = _fold_struct(col.values, t.items[0])  # all child values: offsets index into them
        return pa.ListArray.from_arrays(col.offsets, inner, mask=pc.is_null(col) if col.null_count else None)
    return col


def _finish_column(col: pa.Array, t: SqlType, target: pa.DataType) -> pa.Array:
    if t.base == "BYTES":
        decoded, bad = b64decode(col)
        if bad:
            raise RecordError(next(iter(bad.values())))
        return decoded
    return _cast(col, target)
