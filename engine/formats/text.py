"""Vectorised text helpers shared by the formats: Java number text, base64, sequences.

ksqlDB is Java: doubles print as ``Double.toString`` does (``1.0``, ``1.0E7``, ``4.9E-324``),
which Arrow's float-to-string cast gets right only for the decimal range, so only values outside
``[1e-3, 1e7)`` (rare in practice) take a per-value Python step.

Arrow compute has no base64 kernel, so BYTES columns are converted one value at a time.
"""

from __future__ import annotations

import base64
import binascii
import math
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def sequence(count: int, start: int = 0) -> pa.Array:
    """int64 ``start, start+1, ..., start+count-1`` without a Python loop."""
    return pa.array(np.arange(start, start + count, dtype=np.int64))


def java_double(x: float) -> str:
    """Java's ``Double.toString(x)``."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        text = repr(x)  # shortest round-trip digits, as JDK 19+ prints them
        return text if "." in text else text + ".0"
    shortest = repr(x)
    if len(Decimal(shortest).as_tuple().digits) == 1:
        # "d.dE" shows two digits anyway; Java then picks the closest two (4.9E-324, not 5.0E-324).
        shortest = f"{x:.1e}"
    sign, digits, exponent = Decimal(shortest).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    power = exponent + len(digits) - 1
    mantissa = text[0] + "." + (text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


def java_doubles(values: pa.Array) -> pa.Array:
    """Java ``Double.toString`` of each double, as a string array (nulls stay null)."""
    values = values.cast(pa.float64())
    text = pc.cast(values, pa.string())
    plain = pc.invert(pc.match_substring(text, "."))
    text = pc.if_else(plain, pc.binary_join_element_wise(text, ".0", ""), text)
    magnitude = pc.abs(values)
    odd = pc.or_(
        pc.or_(pc.is_nan(values), pc.greater_equal(magnitude, 1e7)),
        pc.and_(pc.less(magnitude, 1e-3), pc.not_equal(magnitude, 0.0)),
    )
    odd = pc.fill_null(odd, False)
    if not pc.any(odd).as_py():
        return text
    special = [java_double(x) for x in values.filter(odd).to_pylist()]
    return pc.replace_with_mask(text, odd, pa.array(special, pa.string()))


def b64encode(values: pa.Array) -> pa.Array:
    """Base64 text of each binary value (per value: Arrow has no base64 kernel)."""
    out = [None if v is None else base64.b64encode(v).decode("ascii") for v in values.to_pylist()]
    return pa.array(out, pa.string())


def b64decode_one(text: str) -> bytes:
    """Strict base64 decode; raises ValueError with a readable message."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"Invalid base64 value: {text!r}") from e


def b64decode(values: pa.Array) -> tuple[pa.Array, dict[int, str]]:
    """Decode base64 text per value; returns the binary array and ``{row: error}``."""
    out: list[bytes | None] = []
    errors: dict[int, str] = {}
    for i, v in enumerate(values.to_pylist()):
        if v is None:
            out.append(None)
            continue
        try:
            out.append(b64decode_one(v))
        except ValueError as e:
            errors[i] = str(e)
            out.append(None)
    return pa.array(out, pa.binary()), errors


def any_true(mask: pa.Array) -> bool:
    """True if any value of a boolean array is true (nulls count as false)."""
    return bool(pc.any(pc.fill_null(mask, False)).as_py())


def scalar_text(value: Any) -> str:
    """Text of a JSON scalar the way Jackson's ``asText`` gives it (used for coercions)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    return str(value)
