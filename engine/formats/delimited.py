"""ksqlDB's DELIMITED format: one CSV record per value (Apache Commons CSV rules).

Decode: the batch is parsed by pyarrow's CSV reader in one call (all fields as text, then cast
per column); records with the wrong field count are reported through the reader's invalid-row
hook. Empty fields are null. Text per type: numbers as written, BOOLEAN ``true``/``false``,
DECIMAL plain, TIMESTAMP epoch millis, DATE epoch days, TIME millis of day, BYTES base64.
A value that does not cast fails its record (found per value only for the failing column).

Encode follows ksqlDB's Commons CSV printer (MINIMAL quoting of the version ksqlDB ships): a
field is quoted when it is the record's first field and is empty or starts with a character
other than ``[A-Za-z0-9]``, or starts with a character ``<= '#'``, or contains the delimiter,
a quote, CR or LF, or ends with a character ``<= ' '``; quotes inside are doubled. Nulls are
empty and never quoted. DOUBLE prints as Java does (``10.0``, ``1.0E7``).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from engine.formats.base import Column, Decoded, assemble, check_key_maps
from engine.formats.errors import FormatError, RecordError
from engine.formats.text import any_true, b64decode, b64encode, java_doubles
from engine.types import to_arrow

_NAMED = {"TAB": "\t", "SPACE": " "}
_UNSUPPORTED = ("ARRAY", "MAP", "STRUCT")
_READ_AS = {"TIMESTAMP": pa.int64(), "DATE": pa.int32(), "TIME": pa.int32()}


def parse_delimiter(value: str | None) -> str:
    """ksqlDB's VALUE_DELIMITER / KEY_DELIMITER: one character, or TAB / SPACE."""
    if value is None:
        return ","
    if len(value) == 1:
        return value
    named = _NAMED.get(value.upper())
    if named is None:
        raise FormatError(
            f"Invalid delimiter value: '{value}'. Delimiter must be a single character or TAB or SPACE"
        )
    return named


def _char_class(*chars: str) -> str:
    return "".join(f"\\x{{{ord(c):x}}}" for c in chars)


class DelimitedFormat:
    """DELIMITED with a one-character delimiter (see the module docstring)."""

    def __init__(self, is_key: bool, delimiter: str = ",") -> None:
        self._is_key = is_key
        self._delimiter = delimiter
        special = _char_class("\n", "\r", '"', delimiter)
        self._quote_any = f"[{special}]|[\\x00-\\x20]$"
        self._quote_first = f"^[^A-Za-z0-9]|{self._quote_any}"
        self._quote_rest = f"^[\\x00-\\x23]|{self._quote_any}"

    @property
    def name(self) -> str:
        return "DELIMITED"

    @property
    def is_key(self) -> bool:
        return self._is_key

    def validate(self, columns: list[Column]) -> None:
        """Primitive columns only."""
        if self._is_key:
            check_key_maps(columns)
        for name, t in columns:
            if t.base in _UNSUPPORTED:
                raise FormatError(
                    f"The 'DELIMITED' format does not support type '{t.base}', column: `{name}`"
                )

    # -- decode ---------------------------------------------------------------------------------

    def decode(self, data: pa.Array, columns: list[Column]) -> Decoded:
        """Decode CSV records; a null input is a null row."""
        data = data.cast(pa.binary()) if data.type != pa.binary() else data
        target = pa.schema([pa.field(name, to_arrow(t)) for name, t in columns])
        return assemble(data, lambda values: self._decode_present(values, columns, target))

    def _decode_present(
        self, values: pa.Array, columns: list[Column], target: pa.Schema
    ) -> tuple[pa.Table, dict[int, str], list[int]]:
        fields, errors = self._split(values, len(columns))
        arrays = []
        for i, (name, t) in enumerate(columns):
            col, bad = _convert(fields[i], t, target.field(name).type)
            for row, message in bad.items():
                errors.setdefault(row, message)
            arrays.append(col)
        return pa.Table.from_arrays(arrays, schema=target), errors, []

    def _split(self, values: pa.Array, count: int) -> tuple[list[pa.Array], dict[int, str]]:
        """Fields of each record as text columns (aligned with ``values``) and field-count errors."""
        n = len(values)
        if count == 0:
            return [], {}
        try:
            return self._split_fast(values, count)
        except (pa.ArrowInvalid, _Mismatch):
            pass
        rows: list[list[str | None]] = []
        errors: dict[int, str] = {}
        for i, raw in enumerate(values.to_pylist()):
            parsed = next(
                csv.reader(io.StringIO(raw.decode("utf-8", errors="replace")), delimiter=self._delimiter), []
            )
            if not parsed and count == 1:
                parsed = [""]
            if len(parsed) != count:
                errors[i] = _count_error(count, len(parsed))
                parsed = [""] * count
            rows.append([None if f == "" else f for f in parsed])
        columns = [pa.array([r[j] for r in rows], pa.string()) for j in range(count)] if n else []
        return columns or [pa.array([], pa.string())] * count, errors

    def _split_fast(self, values: pa.Array, count: int) -> tuple[list[pa.Array], dict[int, str]]:
        from engine.formats.json_decode import ndjson  # the same newline-joined buffer

        if any_true(pc.match_substring(values, "\r")) or any_true(pc.match_substring(values, "\n")):
            raise _Mismatch  # embedded line breaks: the per-record parser keeps records apart
        invalid: dict[int, str] = {}

        def on_invalid(row: Any) -> str:
            if row.number is None:
                raise _Mismatch
            invalid[row.number - 1] = _count_error(row.expected_columns, row.actual_columns)
            return "skip"

        names = [f"c{i}" for i in range(count)]
        table = pcsv.read_csv(
            pa.BufferReader(ndjson(values)),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 26),
            parse_options=pcsv.ParseOptions(
                delimiter=self._delimiter, invalid_row_handler=on_invalid, ignore_empty_lines=False
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True, null_values=[""]
            ),
        )
        if table.num_rows + len(invalid) != len(values):
            raise _Mismatch
        cols = [table.column(i).combine_chunks() for i in range(count)]
        if invalid:
            good = pc.invert(pa.array([i in invalid for i in range(len(values))], pa.bool_()))
            cols = [pc.replace_with_mask(pa.nulls(len(values), pa.string()), good, c) for c in cols]
        return cols, invalid

    # -- encode ---------------------------------------------------------------------------------

    def encode(self, table: pa.Table, columns: list[Column], null_rows: pa.Array | None = None) -> pa.Array:
        """Encode rows as CSV records (no record separator)."""
        n = table.num_rows
        if not columns:
            return pa.repeat(pa.scalar(b"", pa.binary()), n)
        texts = []
        for i, (name, t) in enumerate(columns):
            text = _text(table.column(name).combine_chunks(), t.base)
            texts.append(self._quote(text, first=i == 0))
        out = pc.binary_join_element_wise(*texts, self._delimiter).cast(pa.binary())
        if null_rows is not None:
            out = pc.if_else(pc.fill_null(null_rows, False), pa.scalar(None, pa.binary()), out)
        return out

    def _quote(self, text: pa.Array, first: bool) -> pa.Array:
        needs = pc.match_substring_regex(text, self._quote_first if first else self._quote_rest)
        if first:
            needs = pc.or_(needs, pc.equal(text, ""))
        needs = pc.fill_null(needs, False)
        if any_true(needs):
            quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
            text = pc.if_else(needs, quoted, text)
        return pc.fill_null(text, "")


class _Mismatch(Exception):
    """The batch parser's rows cannot be matched to records; use the per-record parser."""


def _count_error(expected: int, actual: int) -> str:
    return f"Unexpected field count, csvFields:{actual} schemaFields:{expected}"


def _text(col: pa.Array, base: str) -> pa.Array:
    """CSV text of each value (nulls stay null)."""
    if base == "DOUBLE":
        return java_doubles(col)
    if base == "TIMESTAMP":
        return pc.cast(col.cast(pa.timestamp("ms")).view(pa.int64()), pa.string())
    if base in ("DATE", "TIME"):
        return pc.cast(col.view(pa.int32()), pa.string())
    if base == "BYTES":
        return b64encode(col)
    return pc.cast(col, pa.string())


def _convert(text: pa.Array, t: Any, target: pa.DataType) -> tuple[pa.Array, dict[int, str]]:
    """Cast one text column to its type; on failure find the bad values one by one."""
    if t.base == "STRING":
        return text, {}
    if t.base == "BYTES":
        return b64decode(text)
    try:
        return _cast(text, t.base, target), {}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    out: list[Any] = []
    errors: dict[int, str] = {}
    for i, value in enumerate(text.to_pylist()):
        try:
            out.append(None if value is None else _cast(pa.array([value]), t.base, target)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            errors[i] = f"Failed to parse '{value}' as {t.sql()}"
            out.append(None)
        except RecordError as e:
            errors[i] = str(e)
            out.append(None)
    return pa.array(out, target), errors


def _cast(text: pa.Array, base: str, target: pa.DataType) -> pa.Array:
    if base in _READ_AS:
        return text.cast(_READ_AS[base]).cast(target)
    if base == "BOOLEAN":
        lowered = pc.utf8_lower(text)
        ok = pc.fill_null(pc.is_in(lowered, pa.array(["true", "false"])), True)
        if not bool(pc.all(ok).as_py()):
            raise pa.ArrowInvalid("not a boolean")
        return pc.equal(lowered, "true")
    return text.cast(target)  # DECIMAL: Arrow's cast refuses to round, as ksqlDB does
