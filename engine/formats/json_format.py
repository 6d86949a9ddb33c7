"""ksqlDB's JSON format for keys and values.

Wrapping: a value schema is a JSON object of its columns, except that a single-column value is
written and read bare when ``WRAP_SINGLE_VALUE`` is false. Keys: a single key column is always
bare (ksqlDB's keys are unwrapped), several key columns form an object. Field names are matched
to columns exactly first, then case-insensitively (JSON name upper-cased equals the column name,
as ksqlDB does, so quoted lower-case columns only match exactly); missing fields are null;
unknown fields are ignored. A JSON ``null`` (or empty) value decodes like a tombstone.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from engine.formats.base import Column, Decoded, assemble, check_key_maps
from engine.formats.errors import FormatError
from engine.formats.json_decode import JsonDecoder
from engine.formats.json_encode import encode_json
from parser.statements import SqlType

WRAP_ERROR = "'WRAP_SINGLE_VALUE' is only valid for single-field value schemas"


def _map_key_ok(t: SqlType) -> bool:
    if t.base == "MAP":
        return t.items[0].base == "STRING" and _map_key_ok(t.items[1])
    if t.base == "ARRAY":
        return _map_key_ok(t.items[0])
    if t.base == "STRUCT":
        return all(_map_key_ok(ft) for _, ft in t.fields)
    return True


class JsonFormat:
    """JSON (see the module docstring); ``wrap`` is WRAP_SINGLE_VALUE, None when not given."""

    def __init__(self, is_key: bool, wrap: bool | None = None) -> None:
        self._is_key = is_key
        self._wrap = wrap
        self._decoders: dict[tuple[Column, ...], JsonDecoder] = {}

    @property
    def name(self) -> str:
        return "JSON"

    @property
    def is_key(self) -> bool:
        return self._is_key

    def validate(self, columns: list[Column]) -> None:
        """ksqlDB's checks: string map keys, WRAP_SINGLE_VALUE only for one column, no key maps."""
        if self._is_key:
            check_key_maps(columns)
        for _, t in columns:
            if not _map_key_ok(t):
                raise FormatError("JSON only supports MAP types with STRING keys")
        if self._wrap is not None and not self._is_key and len(columns) != 1:
            raise FormatError(WRAP_ERROR)

    def unwrapped(self, columns: list[Column]) -> bool:
        """Whether the single column is written bare."""
        if len(columns) != 1:
            return False
        return self._is_key or self._wrap is False

    def decode(self, data: pa.Array, columns: list[Column]) -> Decoded:
        """Decode JSON values; a JSON ``null`` or empty value is a null row (tombstone)."""
        key = tuple(columns)
        decoder = self._decoders.get(key)
        if decoder is None:
            decoder = self._decoders[key] = JsonDecoder(columns, self.unwrapped(columns))
        data = data.cast(pa.binary()) if data.type != pa.binary() else data
        nullish = pc.or_(pc.equal(data, pa.scalar(b"null")), pc.equal(pc.binary_length(data), 0))
        return assemble(data, decoder.decode, nullish)

    def encode(self, table: pa.Table, columns: list[Column], null_rows: pa.Array | None = None) -> pa.Array:
        """Encode rows; ``null_rows`` (bool) marks rows written as null (tombstones)."""
        out = encode_json(table, columns, self.unwrapped(columns))
        if null_rows is not None:
            out = pc.if_else(pc.fill_null(null_rows, False), pa.scalar(None, pa.binary()), out)
        return out
