"""CREATE STREAM/TABLE and sink-property handling: statement properties -> catalog Source."""

from __future__ import annotations

from typing import Any

from engine.catalog import RESERVED_NAMES, Catalog, Column, Source, WindowInfo
from engine.errors import KsqlError, KsqlStatementError
from parser import duration_ms
from parser.statements import ColumnDef, CreateSource, SqlType

DEFAULT_KEY_FORMAT = "KAFKA"
_WINDOW_TYPES = {"TUMBLING", "HOPPING", "SESSION"}


def _fmt(value: Any) -> str:
    return str(value).upper()


def resolve_formats(props: dict[str, Any], default_value: str | None = None,
                    default_key: str = DEFAULT_KEY_FORMAT) -> tuple[str, str]:
    """(key format, value format) from FORMAT / KEY_FORMAT / VALUE_FORMAT as ksqlDB resolves them."""
    if "FORMAT" in props and ("KEY_FORMAT" in props or "VALUE_FORMAT" in props):
        both = "KEY_FORMAT" if "KEY_FORMAT" in props else "VALUE_FORMAT"
        raise KsqlStatementError(f"Cannot supply both '{both}' and 'FORMAT' properties, as 'FORMAT' "
                                 f"sets both key and value formats. Either use just 'FORMAT', or use "
                                 f"'KEY_FORMAT' and 'VALUE_FORMAT'.")
    if "FORMAT" in props:
        return _fmt(props["FORMAT"]), _fmt(props["FORMAT"])
    value = props.get("VALUE_FORMAT", default_value)
    if value is None:
        raise KsqlStatementError("Statement is missing the 'VALUE_FORMAT' property from the WITH clause. "
                                 "Either provide one or set a default via the 'ksql.persistence.default.format.value' config.")
    return _fmt(props.get("KEY_FORMAT", default_key)), _fmt(value)


def split_format_properties(props: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Key-format and value-format specific properties (delimiters, wrapping)."""
    key: dict[str, Any] = {}
    value: dict[str, Any] = {}
    if "KEY_DELIMITER" in props:
        key["DELIMITER"] = props["KEY_DELIMITER"]
    if "VALUE_DELIMITER" in props:
        value["DELIMITER"] = props["VALUE_DELIMITER"]
    if "WRAP_SINGLE_VALUE" in props:
        value["WRAP_SINGLE_VALUE"] = props["WRAP_SINGLE_VALUE"]
    return key, value


def check_column_name(name: str) -> None:
    """ksqlDB refuses pseudo-column and window-bound names as stored column names."""
    if name in RESERVED_NAMES:
        raise KsqlStatementError(f"'{name}' is a reserved column name. You cannot use it as a name for a column.")


def _to_column(col: ColumnDef, catalog: Catalog) -> Column:
    check_column_name(col.name)
    sql_type: SqlType = catalog.resolve_type(col.type)
    if col.key or col.primary_key:
        return Column(col.name, sql_type, "KEY")
    if col.headers:
        return Column(col.name, sql_type, "HEADERS", col.header_key)
    return Column(col.name, sql_type, "VALUE")


def _window_info(props: dict[str, Any]) -> WindowInfo | None:
    kind = props.get("WINDOW_TYPE")
    if kind is None:
        return None
    kind = _fmt(kind)
    if kind not in _WINDOW_TYPES:
        raise KsqlStatementError(f"Invalid value for WINDOW_TYPE: {kind}")
    size = props.get("WINDOW_SIZE")
    size_ms = duration_ms(str(size)) if size is not None else None  # the parser validated it
    if kind != "SESSION" and size_ms is None:
        raise KsqlStatementError(f"{kind} windows require 'WINDOW_SIZE' to be provided in the WITH clause. "
                                 f"For example: 'WINDOW_SIZE'='10 SECONDS'")
    return WindowInfo(kind, size_ms)  # type: ignore[arg-type]


def _check_key(kind: str, columns: list[Column], window: WindowInfo | None, stmt: CreateSource) -> None:
    keys = [c for c in columns if c.namespace == "KEY"]
    if kind == "TABLE" and not keys:
        raise KsqlStatementError("Tables require a PRIMARY KEY. Please define the PRIMARY KEY.")
    if kind == "TABLE" and any(c.key for c in stmt.columns):
        raise KsqlStatementError(f"Column `{next(c.name for c in stmt.columns if c.key)}` is a 'KEY' column: please use 'PRIMARY KEY' for tables.\n"
                                 "Tables have PRIMARY KEYs, which are unique and NON NULL.\n"
                                 "Streams have KEYs, which have no uniqueness or NON NULL constraints."
                                 )
    if kind == "STREAM" and any(c.primary_key for c in stmt.columns):
        raise KsqlStatementError(f"Column `{next(c.name for c in stmt.columns if c.primary_key)}` is a 'PRIMARY KEY' column: please use 'KEY' for streams.\n"
                                 "Tables have PRIMARY KEYs, which are unique and NON NULL.\n"
                                 "Streams have KEYs, which have no uniqueness or NON NULL constraints."
                                 )
    if window is not None and not keys:
        raise KsqlStatementError("Windowed sources require a key column.")


def source_from_create(stmt: CreateSource, catalog: Catalog, text: str,
                       config: dict[str, str] | None = None) -> Source:
    """Validate a CREATE STREAM/TABLE and build its catalog entry (the topic is not touched).

    ``config`` holds the ksql.persistence.default.format.key/value defaults.
    """
    props = stmt.properties
    config = config or {}
    if not stmt.columns:
        raise KsqlError("No columns supplied.")
    columns = [_to_column(c, catalog) for c in stmt.columns]
    seen: set[str] = set()
    for col in columns:
        if col.name in seen:
            raise KsqlStatementError(f"Duplicate column names:  {col.name}")
        seen.add(col.name)
    topic = props.get("KAFKA_TOPIC")
    if topic is None:
        raise KsqlStatementError("Missing required property \"KAFKA_TOPIC\" which has no default value.")
    key_format, value_format = resolve_formats(
        props, config.get("ksql.persistence.default.format.value"),
        config.get("ksql.persistence.default.format.key", DEFAULT_KEY_FORMAT))
    key_props, value_props = split_format_properties(props)
    window = _window_info(props)
    _check_key(stmt.kind, columns, window, stmt)
    ts_col = props.get("TIMESTAMP")
    return Source(
        name=stmt.name, kind=stmt.kind, columns=columns, topic=str(topic),
        key_format=key_format, value_format=value_format,
        key_properties=key_props, value_properties=value_props,
        timestamp_column=str(ts_col).upper() if ts_col is not None else None,
        timestamp_format=props.get("TIMESTAMP_FORMAT"), window=window,
        read_only=stmt.source, sql=text, partitions=int(props.get("PARTITIONS", 1) or 1),
    )
