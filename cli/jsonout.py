"""JSON for result values the way ksqlDB writes them: decimals as numbers, BYTES as base64,
DATE/TIME/TIMESTAMP as ISO text."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def plain(value: Any) -> Any:
    """``value`` with Arrow's MAP rendering (a list of key/value tuples) turned into a dict, as
    ksqlDB writes maps as JSON objects."""
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): plain(v) for k, v in value}
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def dumps(value: Any, indent: int | None = None) -> str:
    """Compact (or indented) JSON text of ``value``."""
    value = plain(value)
    if indent is None:
        return json.dumps(value, default=_default, separators=(",", ":"))
    return json.dumps(value, default=_default, indent=indent)
