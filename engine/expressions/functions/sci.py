"""Java ``Double.toString`` scientific notation as DuckDB macros (no Python UDF needed).

DuckDB renders doubles with the shortest round-trip digits, either plainly (``12345678.9``) or
as ``1.234e-05``; these macros re-spell the same digits the Java way: ``1.2345678E7``.
"""

from __future__ import annotations

from engine.expressions.functions.runtime import macro

_MACROS = [
    # digits (no dot, no leading/trailing zeros) and decimal exponent of a plain positive number
    "ksql_sci_digits(s) AS CASE WHEN split_part(s, '.', 1) <> '0'"
    " THEN rtrim(split_part(s, '.', 1) || split_part(s, '.', 2), '0')"
    " ELSE trim(split_part(s, '.', 2), '0') END",
    "ksql_sci_exp(s) AS CASE WHEN split_part(s, '.', 1) <> '0' THEN length(split_part(s, '.', 1)) - 1"
    " ELSE -(length(split_part(s, '.', 2)) - length(ltrim(split_part(s, '.', 2), '0')) + 1) END",
    "ksql_sci_fmt(d, e) AS substr(d, 1, 1) || '.' || coalesce(nullif(substr(d, 2), ''), '0')"
    " || 'E' || CAST(e AS VARCHAR)",
    "ksql_sci_pos(s) AS CASE WHEN contains(s, 'e') THEN"
    " ksql_sci_fmt(replace(rtrim(rtrim(split_part(s, 'e', 1), '0'), '.'), '.', ''),"
    " CAST(split_part(s, 'e', 2) AS INTEGER))"
    " ELSE ksql_sci_fmt(ksql_sci_digits(s), ksql_sci_exp(s)) END",
    "ksql_double_sci(x) AS (CASE WHEN x < 0 THEN '-' ELSE '' END) || ksql_sci_pos(CAST(abs(x) AS VARCHAR))",
]


def load() -> None:
    """Declare the macros."""
    for definition in _MACROS:
        macro(definition)
