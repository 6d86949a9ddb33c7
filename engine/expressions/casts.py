"""CAST with ksqlDB's conversion rules, recursive over ARRAY / MAP / STRUCT.

ksqlDB casts follow Java: narrowing integers wrap (``(int) 2147483648L``), doubles and decimals
truncate toward zero when cast to integers, text that does not parse becomes NULL, and complex
values render to text as Java's ``toString`` does (``[1, 3]``, ``{k=1}``, ``Struct{A=1,B=2}``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlglot import exp

from engine import types as T
from engine.expressions.compiled import Compiled
from engine.expressions.errors import ExpressionError
from engine.expressions.typesys import display, duck, is_null
from parser.statements import SqlType

if TYPE_CHECKING:
    from engine.expressions.compiler import Compiler

_Namer = Callable[[], str]

_SIMPLE_TYPES = {
    "BOOLEAN": "BOOLEAN", "INT": "INTEGER", "INTEGER": "INTEGER", "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE", "VARCHAR": "STRING", "TEXT": "STRING", "STRING": "STRING",
    "VARBINARY": "BYTES", "BINARY": "BYTES", "BLOB": "BYTES", "DATE": "DATE", "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP", "DECIMAL": "DECIMAL", "FLOAT": "DOUBLE",
}


def datatype_to_sqltype(dt: exp.DataType) -> SqlType:
    """Convert a sqlglot DataType to SqlType (the parser's helper when available)."""
    try:
        from parser.types import datatype_to_sqltype as parser_conv
    except ImportError:
        return _fallback_datatype(dt)
    result: SqlType = parser_conv(dt)
    return result


def _fallback_datatype(dt: exp.DataType) -> SqlType:
    name = dt.this.name if hasattr(dt.this, "name") else str(dt.this)
    base = _SIMPLE_TYPES.get(name.upper())
    if name.upper() == "USERDEFINED":
        base = str(dt.args.get("kind") or "").upper() or None
    params = [p for p in dt.expressions if not isinstance(p, (exp.DataType, exp.ColumnDef))]
    if base == "DECIMAL":
        nums = tuple(int(p.this.this if isinstance(p, exp.DataTypeParam) else p.this) for p in params)
        return T.decimal(*(nums + (38, 0)[len(nums):])[:2]) if nums else T.decimal(38, 0)
    if base is not None:
        return SqlType(base)
    if name.upper() == "ARRAY":
        return T.array(datatype_to_sqltype(dt.expressions[0]))
    if name.upper() == "MAP":
        return T.map_of(datatype_to_sqltype(dt.expressions[0]), datatype_to_sqltype(dt.expressions[1]))
    if name.upper() == "STRUCT":
        fields = [(f.name, datatype_to_sqltype(f.args["kind"])) for f in dt.expressions]
        return T.struct(fields)
    raise ExpressionError(f"Unsupported type: {dt.sql()}")


def compile_cast(c: Compiler, e: exp.Expression) -> Compiled:
    """``CAST(x AS type)``."""
    value = c.compile(e.this)
    target = datatype_to_sqltype(e.args["to"])
    return Compiled(cast_sql(value.sql, value.type, target, c.fresh_lambda_var), target)


def cast_sql(sql: str, source: SqlType, target: SqlType, fresh: _Namer) -> str:
    """DuckDB SQL converting ``sql`` of type ``source`` to ``target`` the ksqlDB way.

    Raises:
        ExpressionError: the cast is not supported by ksqlDB.
    """
    if is_null(source):
        return f"CAST(NULL AS {duck(target)})"
    if source == target:
        return sql
    if target.base == "STRING":
        return to_string_sql(sql, source, fresh)
    if source.base == "STRING":
        return _from_string(sql, target)
    rule = _CASTS.get((source.base, target.base))
    if rule is not None:
        return rule(sql, target)
    if source.base == target.base == "ARRAY":
        v = fresh()
        inner = cast_sql(v, source.items[0], target.items[0], fresh)
        return f"list_transform({sql}, lambda {v}: {inner})"
    if source.base == target.base == "MAP":
        return _cast_map(sql, source, target, fresh)
    if source.base == target.base == "STRUCT":
        return _cast_struct(sql, source, target, fresh)
    raise ExpressionError(f"Cast of {display(source)} to {display(target)} is not supported")


def _cast_map(sql: str, source: SqlType, target: SqlType, fresh: _Namer) -> str:
    v = fresh()
    key = cast_sql(f"{v}.key", source.items[0], target.items[0], fresh)
    value = cast_sql(f"{v}.value", source.items[1], target.items[1], fresh)
    entries = f"list_transform(map_entries({sql}), lambda {v}: struct_pack(key := {key}, value := {value}))"
    return f"CASE WHEN {sql} IS NULL THEN NULL ELSE map_from_entries({entries}) END"


def _cast_struct(sql: str, source: SqlType, target: SqlType, fresh: _Namer) -> str:
    # Fields are matched by name; target fields the source lacks become NULL.
    have = dict(source.fields)
    parts = []
    for name, ftype in target.fields:
        quoted = '"' + name.replace('"', '""') + '"'
        if name in have:
            field_sql = f"struct_extract({sql}, '{_esc(name)}')"
            parts.append(f"{quoted} := {cast_sql(field_sql, have[name], ftype, fresh)}")
        else:
            parts.append(f"{quoted} := CAST(NULL AS {duck(ftype)})")
    return f"CASE WHEN {sql} IS NULL THEN NULL ELSE struct_pack({', '.join(parts)}) END"


def _esc(text: str) -> str:
    return text.replace("'", "''")


def _from_string(sql: str, target: SqlType) -> str:
    base = target.base
    if base in ("INTEGER", "BIGINT"):
        # Java's parseInt/parseLong accept only an optionally signed run of digits.
        return (
            f"CASE WHEN regexp_full_match(trim({sql}), '[+-]?[0-9]+') "
            f"THEN TRY_CAST(trim({sql}) AS {duck(target)}) END"
        )
    if base in ("DOUBLE", "DECIMAL", "DATE", "TIME"):
        return f"TRY_CAST(trim({sql}) AS {duck(target)})"
    if base == "BOOLEAN":
        return f"ksql_parse_boolean({sql})"
    if base == "TIMESTAMP":
        return f"ksql_parse_timestamp({sql})"
    if base == "BYTES":
        return f"CAST({sql} AS BLOB)"
    raise ExpressionError(f"Cast of STRING to {display(target)} is not supported")


def to_string_sql(sql: str, source: SqlType, fresh: _Namer) -> str:
    """Text of a value as ksqlDB's CAST(x AS STRING) renders it (Java ``toString``)."""
    base = source.base
    if base == "STRING":
        return sql
    if base == "DOUBLE":
        return f"ksql_double_str({sql})"
    if base == "TIMESTAMP":
        return f"strftime({sql}, '%Y-%m-%dT%H:%M:%S.%g')"
    if base == "TIME":
        return f"strftime(TIMESTAMP '1970-01-01' + {sql}, '%H:%M:%S')"
    if base == "ARRAY":
        v = fresh()
        item = _element_text(v, source.items[0], fresh)
        return f"('[' || array_to_string(list_transform({sql}, lambda {v}: {item}), ', ') || ']')"
    if base == "MAP":
        v = fresh()
        key = _element_text(f"{v}.key", source.items[0], fresh)
        value = _element_text(f"{v}.value", source.items[1], fresh)
        entries = f"list_transform(map_entries({sql}), lambda {v}: {key} || '=' || {value})"
        return f"('{{' || array_to_string({entries}, ', ') || '}}')"
    if base == "STRUCT":
        parts = [
            f"'{_esc(name)}=' || {_element_text(f'struct_extract({sql}, {_lit(name)})', ftype, fresh)}"
            for name, ftype in source.fields
        ]
        joined = " || ',' || ".join(parts) if parts else "''"
        return f"CASE WHEN {sql} IS NULL THEN NULL ELSE 'Struct{{' || {joined} || '}}' END"
    if base == "BYTES":
        return f"ksql_bytes_str({sql})"
    return f"CAST({sql} AS VARCHAR)"


def _lit(text: str) -> str:
    return "'" + _esc(text) + "'"


def _element_text(sql: str, source: SqlType, fresh: _Namer) -> str:
    # Java renders null elements as "null" inside collections.
    return f"coalesce({to_string_sql(sql, source, fresh)}, 'null')"


def _to_int(sql: str, target: SqlType) -> str:
    if target.base == "INTEGER":
        return f"ksql_wrap_int(TRY_CAST(trunc({sql}) AS HUGEINT))"
    return f"ksql_wrap_bigint(TRY_CAST(trunc({sql}) AS HUGEINT))"


def _narrow_int(sql: str, target: SqlType) -> str:
    return f"ksql_wrap_int({sql})"


def _plain(sql: str, target: SqlType) -> str:
    return f"CAST({sql} AS {duck(target)})"


def _try(sql: str, target: SqlType) -> str:
    return f"TRY_CAST({sql} AS {duck(target)})"


_CASTS = {
    ("INTEGER", "BIGINT"): _plain,
    ("INTEGER", "DOUBLE"): _plain,
    ("BIGINT", "DOUBLE"): _plain,
    ("BIGINT", "INTEGER"): _narrow_int,
    ("INTEGER", "DECIMAL"): _try,
    ("BIGINT", "DECIMAL"): _try,
    ("DOUBLE", "DECIMAL"): _try,
    ("DECIMAL", "DECIMAL"): _try,
    ("DECIMAL", "DOUBLE"): _plain,
    ("DOUBLE", "INTEGER"): _to_int,
    ("DOUBLE", "BIGINT"): _to_int,
    ("DECIMAL", "INTEGER"): _to_int,
    ("DECIMAL", "BIGINT"): _to_int,
    ("TIMESTAMP", "DATE"): _plain,
    ("TIMESTAMP", "TIME"): _plain,
    ("DATE", "TIMESTAMP"): _plain,
}
