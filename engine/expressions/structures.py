"""Struct field access, array/map subscripts and the ARRAY / MAP / STRUCT constructors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from engine import types as T
from engine.expressions.compiled import Compiled
from engine.expressions.errors import ExpressionError
from engine.expressions.formatter import format_expression
from engine.expressions.scope import quote_ident
from engine.expressions.typesys import NULL_TYPE, common_type, display, is_integral, is_null

if TYPE_CHECKING:
    from engine.expressions.compiler import Compiler


def sql_string(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def dereference(c: Compiler, e: exp.Expression) -> Compiled:
    """``struct->FIELD``: exact field name first, then a unique case-insensitive match."""
    base = c.compile(e.this)
    field = e.expression.name
    if base.type.base != "STRUCT":
        raise ExpressionError(
            f"Can't dereference field {field} of non-struct expression {format_expression(e.this)} "
            f"({display(base.type)})"
        )
    fields = dict(base.type.fields)
    if field not in fields:
        folded = [n for n in fields if n.upper() == field.upper()]
        if len(folded) != 1:
            raise ExpressionError(f"Could not find field '{field}' in '{format_expression(e.this)}'.")
        field = folded[0]
    return Compiled(f"struct_extract({base.sql}, {sql_string(field)})", fields[field])


def subscript(c: Compiler, e: exp.Expression) -> Compiled:
    """``array[i]`` (1-based, negative from the end, out of range NULL) and ``map[key]``."""
    base = c.compile(e.this)
    if len(e.expressions) != 1:
        raise ExpressionError(f"Invalid subscript: {format_expression(e)}")
    index = c.compile(e.expressions[0])
    if base.type.base == "ARRAY":
        if not (is_integral(index.type) or is_null(index.type)):
            raise ExpressionError(
                f"Array index must be an INTEGER or BIGINT, but was {display(index.type)}"
            )
        # DuckDB list indexing has ksqlDB's semantics: 1-based, negatives from the end, NULL outside.
        return Compiled(f"list_extract({base.sql}, {index.sql})", base.type.items[0])
    if base.type.base == "MAP":
        key = index.cast_to(base.type.items[0]) if not is_null(index.type) else index
        return Compiled(f"({base.sql})[{key.sql}]", base.type.items[1])
    raise ExpressionError(
        f"Subscript expression can only be used on arrays and maps: {format_expression(e)} "
        f"({display(base.type)})"
    )


def array_constructor(c: Compiler, e: exp.Expression) -> Compiled:
    """``ARRAY[a, b, ...]``: elements unify to one type."""
    items = [c.compile(i) for i in e.expressions]
    if not items:
        return Compiled("[]", T.array(T.STRING))
    etype = common_type([i.type for i in items])
    if etype is None:
        raise ExpressionError(
            "invalid input syntax for type ARRAY: all elements must be of the same type, got "
            + ", ".join(display(i.type) for i in items)
        )
    if is_null(etype):
        etype = T.STRING
    rendered = ", ".join(i.cast_to(etype).sql for i in items)
    return Compiled(f"[{rendered}]", T.array(etype))


def struct_constructor(c: Compiler, args: list[exp.Expression]) -> Compiled:
    """``STRUCT(NAME := value, ...)``; NULL-typed fields default to STRING."""
    parts: list[str] = []
    fields: list[tuple[str, T.SqlType]] = []
    for arg in args:
        if not isinstance(arg, exp.PropertyEQ):
            raise ExpressionError("STRUCT constructor arguments must be of the form NAME := value")
        name = arg.this.name
        if name in (f for f, _ in fields):
            raise ExpressionError("Duplicate field names found in STRUCT")
        value = c.compile(arg.expression)
        ftype = T.STRING if is_null(value.type) else value.type
        parts.append(f"{quote_ident(name)} := {value.cast_to(ftype).sql}")
        fields.append((name, ftype))
    if not parts:
        raise ExpressionError("STRUCT constructor requires at least one field")
    return Compiled(f"struct_pack({', '.join(parts)})", T.struct(fields))


def map_constructor(c: Compiler, args: list[exp.Expression]) -> Compiled:
    """``MAP(key := value, ...)``; a later duplicate key wins, as in ksqlDB."""
    keys = [c.compile(a.this) for a in args if isinstance(a, exp.PropertyEQ)]
    values = [c.compile(a.expression) for a in args if isinstance(a, exp.PropertyEQ)]
    if len(keys) != len(args) or not args:
        raise ExpressionError("MAP constructor arguments must be of the form key := value")
    ktype, vtype = common_type([k.type for k in keys]), common_type([v.type for v in values])
    if ktype is None or vtype is None:
        raise ExpressionError("Cannot construct a map with mismatching key or value types")
    ktype = T.STRING if is_null(ktype) else ktype
    vtype = T.STRING if is_null(vtype) else vtype
    entries = ", ".join(
        f"struct_pack(key := {k.cast_to(ktype).sql}, value := {v.cast_to(vtype).sql})"
        for k, v in zip(keys, values, strict=True)
    )
    # ksql_map_from_entries keeps the last value per key and drops NULL keys (DuckDB would throw).
    return Compiled(f"ksql_map_from_entries([{entries}])", T.map_of(ktype, vtype))


__all__ = [
    "NULL_TYPE", "array_constructor", "dereference", "map_constructor", "struct_constructor",
    "subscript",
]
