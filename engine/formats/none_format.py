"""ksqlDB's NONE format: no columns; any bytes present are ignored, nothing is written."""

from __future__ import annotations

import pyarrow as pa

from engine.formats.base import Column, Decoded, assemble, column_list, empty_columns_table
from engine.formats.errors import FormatError


class NoneFormat:
    """NONE: decodes every record to a row without columns; encodes to null."""

    def __init__(self, is_key: bool) -> None:
        self._is_key = is_key

    @property
    def name(self) -> str:
        return "NONE"

    @property
    def is_key(self) -> bool:
        return self._is_key

    def validate(self, columns: list[Column]) -> None:
        """Only an empty column list is allowed."""
        if columns:
            raise FormatError(
                "The 'NONE' format can only be used when no columns are defined. "
                f"Got: {column_list(columns, self._is_key)}"
            )

    def decode(self, data: pa.Array, columns: list[Column]) -> Decoded:
        """Rows without columns; ``is_null`` still tells tombstones apart."""
        self.validate(columns)
        return assemble(data, lambda values: (empty_columns_table(len(values)), {}, []))

    def encode(self, table: pa.Table, columns: list[Column], null_rows: pa.Array | None = None) -> pa.Array:
        """Always null bytes."""
        return pa.nulls(table.num_rows, pa.binary())
