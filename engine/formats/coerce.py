"""ksqlDB's JSON coercions for one parsed value (the per-record path of the JSON decoder).

Used only for records the batch reader rejects (type mismatches ksqlDB coerces, bad records),
so it favours exact ksqlDB behaviour over speed. Rules, after ksqlDB's ``JsonSerdeUtils``:

- BOOLEAN from a boolean or the text ``true``/``false`` (any case).
- INTEGER / BIGINT from an integral number, a fractional number (truncated, as Jackson's
  ``intValue``), or numeric text; out-of-range values are errors.
- DOUBLE from any number or numeric text.
- STRING from text; numbers and booleans give their JSON text (``1.0`` stays ``1.0``); objects
  and arrays give their JSON text.
- DECIMAL(p, s) from a number or numeric text; values needing rounding or more precision are
  errors (ksqlDB refuses to round silently).
- TIMESTAMP (epoch ms), DATE (epoch days), TIME (ms of day) from integral numbers or digits.
- BYTES from base64 text.
- ARRAY from arrays, MAP (string keys) from objects, STRUCT from objects with field names
  matched exactly first, then case-insensitively (the JSON name upper-cased equals the field).
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation
from typing import Any

import orjson

from engine.formats.errors import RecordError
from engine.formats.text import b64decode_one, java_double, scalar_text
from parser.statements import SqlType

_INT_RANGE = {"INTEGER": (-(2**31), 2**31 - 1), "BIGINT": (-(2**63), 2**63 - 1)}
_DECIMAL_CONTEXT = Context(prec=80)  # wide enough for DECIMAL(38, s) without context rounding
_TIME_RANGE = {"TIMESTAMP": _INT_RANGE["BIGINT"], "DATE": _INT_RANGE["INTEGER"], "TIME": (0, 86_399_999)}


def node_name(value: Any) -> str:
    """Jackson's node class name for a parsed JSON value (used in error messages)."""
    if value is None:
        return "NullNode"
    if isinstance(value, bool):
        return "BooleanNode"
    if isinstance(value, int):
        return "IntNode" if -(2**31) <= value < 2**31 else "LongNode"
    if isinstance(value, float):
        return "DoubleNode"
    if isinstance(value, str):
        return "TextNode"
    if isinstance(value, list):
        return "ArrayNode"
    return "ObjectNode"


def _mismatch(value: Any, t: SqlType, path: str) -> RecordError:
    return RecordError(
        f"Can't convert type. sourceType: {node_name(value)}, requiredType: {t.sql()}, path: {path}"
    )


def lookup(obj: dict[str, Any], name: str) -> Any:
    """Field ``name`` of a JSON object: exact match first, then upper-cased JSON names."""
    if name in obj:
        return obj[name]
    for key, value in obj.items():
        if key.upper() == name:
            return value
    return None


def coerce(value: Any, t: SqlType, path: str) -> Any:
    """Convert a parsed JSON value to the Python value Arrow builds for ``t``."""
    if value is None:
        return None
    base = t.base
    if base == "STRING":
        if isinstance(value, str):
            return value
        if isinstance(value, dict | list):
            return orjson.dumps(value).decode()
        return scalar_text(value)
    if base in _INT_RANGE:
        return _integer(value, t, path, _INT_RANGE[base])
    if base == "DOUBLE":
        return _double(value, t, path)
    if base == "BOOLEAN":
        return _boolean(value, t, path)
    if base == "DECIMAL":
        return _decimal(value, t, path)
    if base in _TIME_RANGE:
        return _integer(value, t, path, _TIME_RANGE[base], fractions=False)
    if base == "BYTES":
        if not isinstance(value, str):
            raise _mismatch(value, t, path)
        try:
            return b64decode_one(value)
        except ValueError as e:
            raise RecordError(f"{e}, path: {path}") from e
    return _container(value, t, path)


def _container(value: Any, t: SqlType, path: str) -> Any:
    if t.base == "ARRAY":
        if not isinstance(value, list):
            raise _mismatch(value, t, path)
        return [coerce(v, t.items[0], f"{path}[{i}]") for i, v in enumerate(value)]
    if t.base == "MAP":
        if not isinstance(value, dict):
            raise _mismatch(value, t, path)
        return [(k, coerce(v, t.items[1], f"{path}.{k}")) for k, v in value.items()]
    if t.base == "STRUCT":
        if not isinstance(value, dict):
            raise _mismatch(value, t, path)
        return {name: coerce(lookup(value, name), ft, f"{path}.{name}") for name, ft in t.fields}
    raise RecordError(f"Unsupported type {t.sql()}, path: {path}")


def _integer(value: Any, t: SqlType, path: str, bounds: tuple[int, int], fractions: bool = True) -> int:
    if isinstance(value, bool):
        raise _mismatch(value, t, path)
    if isinstance(value, float) and fractions and value == value and abs(value) != float("inf"):
        result = int(value)
    elif isinstance(value, int):
        result = value
    elif isinstance(value, str):
        try:
            result = int(value.strip())
        except ValueError:
            raise RecordError(f"Can't coerce string to type. targetType: {t.sql()}, path: {path}") from None
    else:
        raise _mismatch(value, t, path)
    if not bounds[0] <= result <= bounds[1]:
        raise RecordError(f"Value {result} out of range for {t.sql()}, path: {path}")
    return result


def _double(value: Any, t: SqlType, path: str) -> float:
    if isinstance(value, bool):
        raise _mismatch(value, t, path)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise RecordError(f"Can't coerce string to type. targetType: DOUBLE, path: {path}") from None
    raise _mismatch(value, t, path)


def _boolean(value: Any, t: SqlType, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _mismatch(value, t, path)


def _decimal(value: Any, t: SqlType, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _mismatch(value, t, path)
    text = java_double(value) if isinstance(value, float) else str(value).strip()
    try:
        number = Decimal(text)
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise RecordError(f"Can't coerce string to type. targetType: {t.sql()}, path: {path}") from None
    return fit_decimal(number, t, path)


def fit_decimal(number: Decimal, t: SqlType, path: str) -> Decimal:
    """Scale ``number`` to DECIMAL(p, s) exactly, or raise like ksqlDB's ``DecimalUtil.ensureFit``."""
    precision, scale = (t.params + (38, 0))[:2] if t.params else (38, 0)
    if not number.is_finite():
        raise RecordError(f"Cannot convert {number} to {t.sql()}, path: {path}")
    scaled = (
        number.quantize(Decimal(1).scaleb(-scale), context=_DECIMAL_CONTEXT)
        if number.as_tuple().exponent != -scale
        else number
    )
    if scaled != number or len(scaled.as_tuple().digits) > precision and scaled != 0:
        raise RecordError(
            f"Cannot fit decimal '{number}' into DECIMAL({precision}, {scale}) without rounding. "
            f"(Requires {len(number.as_tuple().digits)},{max(-int(number.as_tuple().exponent), 0)}), "
            f"path: {path}"
        )
    return scaled
