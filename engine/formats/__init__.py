"""Serialisation formats: bytes <-> Arrow per ksqlDB (JSON, DELIMITED, KAFKA, NONE).

``get_format(name, properties, is_key=...)`` returns a ``Format`` (see ``base.py`` for the
decode/encode contract). Names are case-insensitive. ``properties`` are the statement's WITH
properties (upper-case keys): ``WRAP_SINGLE_VALUE`` (values only), ``VALUE_DELIMITER`` /
``KEY_DELIMITER`` (DELIMITED). Formats ksqlDB has but streamsql does not implement yet raise
``UnsupportedFormatError``; unknown names raise ``FormatError("Unknown format: X")``.
"""

from __future__ import annotations

from typing import Any

from engine.formats.base import Column, Decoded, Format
from engine.formats.delimited import DelimitedFormat, parse_delimiter
from engine.formats.errors import FormatError, RecordError, UnsupportedFormatError
from engine.formats.json_format import JsonFormat
from engine.formats.kafka_format import KafkaFormat
from engine.formats.none_format import NoneFormat

__all__ = [
    "Column",
    "Decoded",
    "Format",
    "FormatError",
    "RecordError",
    "UnsupportedFormatError",
    "get_format",
    "SUPPORTED_FORMATS",
]

SUPPORTED_FORMATS = ("JSON", "DELIMITED", "KAFKA", "NONE")
_KNOWN_UNSUPPORTED = ("AVRO", "PROTOBUF", "PROTOBUF_NOSR", "JSON_SR")
_UNWRAP_ONLY = ("KAFKA", "DELIMITED")


def _flag(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise FormatError(f"Invalid value for WRAP_SINGLE_VALUE: '{value}'")


def get_format(name: str, properties: dict[str, Any] | None = None, *, is_key: bool) -> Format:
    """The format called ``name`` configured by ``properties``.

    Raises:
        FormatError: unknown name, or a property the format does not support (ksqlDB's message).
        UnsupportedFormatError: a ksqlDB format streamsql does not implement yet.
    """
    props = {k.upper(): v for k, v in (properties or {}).items()}
    upper = name.strip().upper()
    if upper in _KNOWN_UNSUPPORTED:
        raise UnsupportedFormatError(f"Format '{upper}' is not supported by streamsql yet")
    if upper not in SUPPORTED_FORMATS:
        raise FormatError(f"Unknown format: {name}")
    wrap = None if is_key else _flag(props.get("WRAP_SINGLE_VALUE"))
    if wrap is True and upper in _UNWRAP_ONLY:
        raise FormatError(f"Format '{upper}' does not support 'WRAP_SINGLE_VALUE' set to 'true'.")
    if upper == "JSON":
        return JsonFormat(is_key, wrap)
    if upper == "KAFKA":
        return KafkaFormat(is_key)
    if upper == "NONE":
        return NoneFormat(is_key)
    delimiter = props.get("KEY_DELIMITER" if is_key else "VALUE_DELIMITER")
    return DelimitedFormat(is_key, parse_delimiter(None if delimiter is None else str(delimiter)))
