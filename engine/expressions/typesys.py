"""ksqlDB type rules: numeric widening, decimal arithmetic, common super types.

ksqlDB widens INTEGER -> BIGINT -> DECIMAL -> DOUBLE. Decimal results follow ksqlDB's
``DecimalUtil`` rules (the same as SQL Server's), capped at DuckDB's maximum precision of 38.
"""

from __future__ import annotations

from engine import types as T
from parser.statements import SqlType

#: The type of a bare ``NULL`` literal (ksqlDB prints it as ``null``). It matches anything.
NULL_TYPE = SqlType("NULL")

MAX_PRECISION = 38
NUMERIC_BASES = ("INTEGER", "BIGINT", "DECIMAL", "DOUBLE")
_RANK = {"INTEGER": 0, "BIGINT": 1, "DECIMAL": 2, "DOUBLE": 3}


def is_null(t: SqlType) -> bool:
    """True for the type of a bare NULL literal."""
    return t.base == "NULL"


def is_numeric(t: SqlType) -> bool:
    """INTEGER, BIGINT, DECIMAL or DOUBLE."""
    return t.base in NUMERIC_BASES


def is_integral(t: SqlType) -> bool:
    """INTEGER or BIGINT."""
    return t.base in ("INTEGER", "BIGINT")


def is_temporal(t: SqlType) -> bool:
    """DATE, TIME or TIMESTAMP."""
    return t.base in ("DATE", "TIME", "TIMESTAMP")


def display(t: SqlType) -> str:
    """ksqlDB's rendering of a type in messages (``null`` for the NULL literal type)."""
    return "null" if is_null(t) else t.sql()


def duck(t: SqlType) -> str:
    """DuckDB type text for ``t``; NULL is carried as VARCHAR."""
    if is_null(t):
        return "VARCHAR"
    return T.to_duckdb(t)


def decimal_params(t: SqlType) -> tuple[int, int]:
    """(precision, scale) of a numeric type viewed as a decimal (ksqlDB's implicit widening)."""
    if t.base == "INTEGER":
        return (10, 0)
    if t.base == "BIGINT":
        return (19, 0)
    if t.base == "DECIMAL":
        p = t.params
        return (p[0] if p else MAX_PRECISION, p[1] if len(p) > 1 else 0)
    raise ValueError(f"not a decimal-compatible type: {t.sql()}")


def make_decimal(precision: int, scale: int) -> SqlType:
    """DECIMAL(p, s), clamped to DuckDB's 38 digits (scale shrinks first keeping integer digits)."""
    if precision > MAX_PRECISION:
        integral = precision - scale
        scale = max(0, min(scale, MAX_PRECISION - integral)) if integral < MAX_PRECISION else 0
        precision = MAX_PRECISION
    precision = max(precision, 1)
    return T.decimal(precision, min(scale, precision))


def decimal_arithmetic(op: str, left: SqlType, right: SqlType) -> SqlType:
    """Result type of ``left op right`` when both are decimal-compatible (ksqlDB DecimalUtil)."""
    p1, s1 = decimal_params(left)
    p2, s2 = decimal_params(right)
    if op in ("+", "-"):
        scale = max(s1, s2)
        return make_decimal(max(p1 - s1, p2 - s2) + scale + 1, scale)
    if op == "*":
        return make_decimal(p1 + p2 + 1, s1 + s2)
    if op == "/":
        scale = max(6, s1 + p2 + 1)
        return make_decimal(p1 - s1 + s2 + scale, scale)
    # modulus
    scale = max(s1, s2)
    return make_decimal(min(p1 - s1, p2 - s2) + scale, scale)


def wider_numeric(left: SqlType, right: SqlType) -> SqlType:
    """The ksqlDB result type of mixing two numeric types (not for decimal op decimal)."""
    if left.base == "DOUBLE" or right.base == "DOUBLE":
        return T.DOUBLE
    if left.base == "DECIMAL" or right.base == "DECIMAL":
        p1, s1 = decimal_params(left)
        p2, s2 = decimal_params(right)
        scale = max(s1, s2)
        return make_decimal(max(p1 - s1, p2 - s2) + scale, scale)
    return left if _RANK[left.base] >= _RANK[right.base] else right


def can_widen(source: SqlType, target: SqlType) -> bool:
    """True when ksqlDB implicitly converts ``source`` to ``target`` (function args, unions)."""
    if is_null(source) or source == target:
        return True
    if is_numeric(source) and is_numeric(target):
        if target.base == "DECIMAL" and source.base == "DECIMAL":
            (p1, s1), (p2, s2) = decimal_params(source), decimal_params(target)
            return s2 >= s1 and p2 - s2 >= p1 - s1
        if target.base == "DECIMAL" and source.base in ("INTEGER", "BIGINT"):
            return True
        return _RANK[source.base] < _RANK[target.base]
    if source.base == target.base and source.base in ("ARRAY", "MAP"):
        return all(can_widen(a, b) for a, b in zip(source.items, target.items, strict=True))
    if source.base == target.base == "STRUCT":
        return source == target
    return False


def common_type(types: list[SqlType]) -> SqlType | None:
    """The type every one of ``types`` widens to, NULL_TYPE when all are null, None if none."""
    result = NULL_TYPE
    for t in types:
        if is_null(t):
            continue
        if is_null(result) or result == t:
            result = t
        elif is_numeric(result) and is_numeric(t):
            result = wider_numeric(result, t)
        elif result.base == t.base and result.base in ("ARRAY", "MAP"):
            items = [common_type([a, b]) for a, b in zip(result.items, t.items, strict=True)]
            if any(i is None for i in items):
                return None
            result = SqlType(result.base, items=tuple(i for i in items if i is not None))
        else:
            return None
    return result


def comparable(left: SqlType, right: SqlType, op: str) -> bool:
    """True when ksqlDB lets ``left op right`` type-check."""
    if is_null(left) or is_null(right):
        return True
    if is_numeric(left) and is_numeric(right):
        return True
    if left.base == right.base and left.base not in ("ARRAY", "MAP", "STRUCT"):
        return True
    if left.base == "STRING" and is_temporal(right) or right.base == "STRING" and is_temporal(left):
        return True  # ksqlDB parses the string as the temporal type
    if is_temporal(left) and is_temporal(right):
        return left.base == right.base or "TIME" not in (left.base, right.base)
    if left.base == right.base and op in ("=", "<>", "!=", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"):
        return common_type([left, right]) is not None
    return False
