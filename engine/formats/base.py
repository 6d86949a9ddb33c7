"""The Format protocol: bytes <-> Arrow for keys and values, one whole batch per call.

Contract shared by every format:

- ``decode(data, columns)``: ``data`` is a binary array (null = absent key / tombstone value).
  The result's ``table`` has one column per requested column, in order, named exactly as given,
  typed ``engine.types.to_arrow(type)``. Records that fail to deserialise are left out of
  ``table`` and reported in ``errors`` as ``(input row index, message)``; ``kept`` holds the
  input row index of each row of ``table`` so the caller can align ROWTIME, ROWOFFSET etc.
  A null input decodes to a row whose columns are all null with ``is_null`` true: for values
  that is a tombstone (tables delete the key, streams drop it), for keys an absent key.
- ``encode(table, columns, null_rows=None)``: one binary value per row. Rows flagged in
  ``null_rows`` become null (a tombstone value or an absent key); a format may also return
  null on its own where ksqlDB writes no bytes (an unwrapped single null value, NONE).
- ``validate(columns)``: raise ``FormatError`` with ksqlDB's message when the format cannot
  carry the schema (called by the engine at CREATE time, before any record flows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from engine.formats.errors import FormatError
from engine.formats.text import sequence
from parser.statements import SqlType

Column = tuple[str, SqlType]


@dataclass(frozen=True, slots=True)
class Decoded:
    """The result of decoding one batch (see the module docstring)."""

    table: pa.Table
    kept: pa.Array  # int64 input row index of each table row
    is_null: pa.Array  # bool per table row: the input was null (tombstone / absent key)
    errors: list[tuple[int, str]]


class Format(Protocol):
    """A serialisation format for keys or values (JSON, DELIMITED, KAFKA, NONE ...)."""

    @property
    def name(self) -> str:
        """ksqlDB's upper-case name of the format."""
        ...

    @property
    def is_key(self) -> bool:
        """True when this instance (de)serialises record keys."""
        ...

    def validate(self, columns: list[Column]) -> None:
        """Raise FormatError (ksqlDB's message) if the format cannot carry ``columns``."""
        ...

    def decode(self, data: pa.Array, columns: list[Column]) -> Decoded:
        """Decode a binary array into typed columns (see the module docstring)."""
        ...

    def encode(self, table: pa.Table, columns: list[Column], null_rows: pa.Array | None = None) -> pa.Array:
        """Encode rows of ``table`` (columns named as in ``columns``) into a binary array."""
        ...


def column_list(columns: list[Column], is_key: bool) -> str:
    """ksqlDB's rendering of a column list in messages: ``[`K` STRING KEY, `V` INTEGER]``."""
    suffix = " KEY" if is_key else ""
    return "[" + ", ".join(f"`{name}` {t.sql()}{suffix}" for name, t in columns) + "]"


def contains_map(t: SqlType) -> bool:
    """True if ``t`` is or contains a MAP."""
    if t.base == "MAP":
        return True
    if t.base == "ARRAY":
        return contains_map(t.items[0])
    if t.base == "STRUCT":
        return any(contains_map(ft) for _, ft in t.fields)
    return False


def check_key_maps(columns: list[Column]) -> None:
    """ksqlDB rejects key columns that are or contain maps, whatever the key format."""
    for name, t in columns:
        if contains_map(t):
            raise FormatError(
                "Map keys, including types that contain maps, are not supported as they may lead to "
                "unexpected behavior due to inconsistent serialization. "
                f"Key column name: `{name}`. Column type: {t.sql()}. "
                "See https://github.com/confluentinc/ksql/issues/6621 for more."
            )


def key_schema_error(format_name: str, columns: list[Column], reason: str) -> FormatError:
    """ksqlDB's wrapper for a key schema the key format cannot carry."""
    return FormatError(
        "Key format does not support schema.\n"
        f"format: {format_name}\n"
        f"schema: Persistence{{columns={column_list(columns, True)}, features=[]}}\n"
        f"reason: {reason}"
    )


def empty_columns_table(rows: int) -> pa.Table:
    """A table with ``rows`` rows and no columns (Arrow needs a struct array to say so)."""
    # A field-less struct array built from buffers: filling a null struct array costs ~30 ms/50k.
    batch = pa.RecordBatch.from_struct_array(pa.StructArray.from_buffers(pa.struct([]), rows, [None]))
    return pa.Table.from_batches([batch])


PresentDecoder = Callable[[pa.Array], tuple[pa.Table, dict[int, str], list[int]]]


def assemble(data: pa.Array, decode_present: PresentDecoder, null_input: pa.Array | None = None) -> Decoded:
    """Build a ``Decoded`` from a decoder of the non-null inputs.

    ``decode_present(values)`` gets the non-null values and returns a table aligned with them
    (rows that failed may hold anything), ``{position: error}`` and positions that decoded to
    a null record (e.g. JSON ``null``). ``null_input`` optionally marks more inputs to treat as
    null without decoding them.
    """
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks()
    n = len(data)
    valid = pc.is_valid(data)
    if null_input is not None:
        valid = pc.and_(valid, pc.invert(pc.fill_null(null_input, False)))
    all_valid = n == 0 or bool(pc.all(valid).as_py())
    present = data if all_valid else data.filter(valid)
    table, errors, nulls = decode_present(present)
    if all_valid and not errors and not nulls:
        return Decoded(table, sequence(n), pa.repeat(pa.scalar(False), n), [])
    positions = sequence(n) if all_valid else sequence(n).filter(valid)
    if not all_valid:
        # Input row -> present row (null for null inputs): a take spreads rows back, nulls as null rows.
        ranks = pc.subtract(pc.cumulative_sum(valid.cast(pa.int64())), pa.scalar(1, pa.int64()))
        indices = pc.if_else(valid, ranks, pa.scalar(None, pa.int64()))
        table = table.take(indices) if table.num_columns else empty_columns_table(n)
    is_null = pc.invert(valid)
    keep = pa.repeat(pa.scalar(True), n)
    error_list: list[tuple[int, str]] = []
    if errors or nulls:
        pos = positions.to_pylist()
        marks = [True] * n
        null_marks = is_null.to_pylist()
        for p, message in errors.items():
            marks[pos[p]] = False
            error_list.append((pos[p], message))
        for p in nulls:
            null_marks[pos[p]] = True
        keep = pa.array(marks, pa.bool_())
        is_null = pa.array(null_marks, pa.bool_())
    error_list.sort()
    kept = sequence(n).filter(keep)
    table = table.filter(keep) if table.num_columns else empty_columns_table(len(kept))
    return Decoded(table, kept, is_null.filter(keep), error_list)
