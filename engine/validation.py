"""Statement-time checks of a source's schema against its formats (ksqlDB's messages)."""

from __future__ import annotations

from engine.catalog import Column, Source
from engine.errors import KsqlStatementError
from engine.formats import FormatError, get_format
from parser.statements import SqlType


def _contains_map(t: SqlType) -> bool:
    if t.base == "MAP":
        return True
    return any(_contains_map(i) for i in t.items) or any(_contains_map(ft) for _, ft in t.fields)


def check_key_types(key_columns: list[Column]) -> None:
    """ksqlDB refuses key columns holding maps (their serialisation is not deterministic)."""
    for col in key_columns:
        if _contains_map(col.type):
            raise KsqlStatementError(
                "Map keys, including types that contain maps, are not supported as they may lead to unexpected "
                f"behavior due to inconsistent serialization. Key column name: `{col.name}`. Column type: "
                f"{col.type.sql()}. See https://github.com/confluentinc/ksql/issues/6621 for more.")


def check_formats(source: Source) -> None:
    """The key and value formats exist and can hold the source's key and value columns."""
    check_key_types(source.key_columns)
    if "WRAP_SINGLE_VALUE" in source.value_properties and len(source.value_columns) != 1:
        raise KsqlStatementError("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas")
    for is_key, name, props, cols in (
        (True, source.key_format, source.key_properties, source.key_columns),
        (False, source.value_format, source.value_properties, source.value_columns),
    ):
        try:
            fmt = get_format(name, props, is_key=is_key)
            fmt.validate([(c.name, c.type) for c in cols])
        except FormatError as err:
            raise KsqlStatementError(str(err)) from err
