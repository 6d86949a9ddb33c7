"""Lambda arguments (``x => x + 1``) compiled to DuckDB lambdas, and the lambda functions:
TRANSFORM, FILTER and REDUCE over arrays and maps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from engine import types as T
from engine.expressions.compiled import Compiled
from engine.expressions.errors import ExpressionError
from engine.expressions.functions.registry import Call, scalar
from engine.expressions.functions.signatures import Bindings, Pattern, bind, sig, substitute
from engine.expressions.typesys import common_type, is_null

if TYPE_CHECKING:
    from engine.expressions.compiler import Compiler


def compile_lambda(c: Compiler, node: exp.Expression, pattern: Pattern, bindings: Bindings) -> Compiled:
    """Compile ``node`` (an exp.Lambda) for parameter ``pattern`` ``(A, B) => R``.

    Parameter types come from ``bindings``; the body's type is bound to ``R``. The result's
    ``sql`` is a DuckDB ``lambda a, b: body`` and its ``type`` the body type.
    """
    if not isinstance(node, exp.Lambda):
        raise ExpressionError("Expected a lambda expression")
    names = [p.name for p in node.expressions]
    param_patterns = pattern.items[:-1]
    if len(names) != len(param_patterns):
        raise ExpressionError(
            f"Was expecting {len(param_patterns)} arguments but found {len(names)}, {names}. "
            "Check your lambda statement."
        )
    saved = dict(c.lambda_vars)
    sql_names = []
    for name, p in zip(names, param_patterns, strict=True):
        ptype = substitute(p, bindings) or T.STRING
        sql_name = c.fresh_lambda_var()
        sql_names.append(sql_name)
        c.lambda_vars[name] = Compiled(sql_name, ptype)
    try:
        body = c.compile(node.this)
    finally:
        c.lambda_vars = saved
    result = pattern.items[-1]
    if bind(result, body.type, bindings) is None:
        raise ExpressionError(f"Lambda body returns {body.type.sql()} but {result.render()} is required")
    target = substitute(result, bindings)
    if target is not None and not is_null(body.type) and body.type != target:
        body = body.cast_to(target)
    return Compiled(f"lambda {', '.join(sql_names)}: {body.sql}", body.type)


def inline(lambda_sql: str, values: list[str]) -> str:
    """The body of a compiled ``lambda a_, b_: body`` with its parameters replaced by ``values``.

    DuckDB cannot call a lambda value, so map lambdas are spliced into an entry-wise lambda.
    Parameter names are unique (``__ksql_lN_``) so plain text replacement is safe.
    """
    head, _, body = lambda_sql.partition(": ")
    params = [p.strip() for p in head.removeprefix("lambda ").split(",")]
    for param, value in zip(params, values, strict=True):
        body = body.replace(param, f"({value})")
    return body


_E = "__ksql_e_"


def _transform_map(call: Call) -> str:
    m, kfn, vfn = call.sql
    key = inline(kfn, [f"{_E}.key", f"{_E}.value"])
    value = inline(vfn, [f"{_E}.key", f"{_E}.value"])
    return (
        f"ksql_map_from_entries(list_transform(map_entries({m}), "
        f"lambda {_E}: struct_pack(key := {key}, value := {value})))"
    )


def _filter_map(call: Call) -> str:
    m, fn = call.sql
    pred = inline(fn, [f"{_E}.key", f"{_E}.value"])
    return (
        f"CASE WHEN {m} IS NULL THEN NULL ELSE map_from_entries(list_filter(map_entries({m}), "
        f"lambda {_E}: coalesce({pred}, false))) END"
    )


def _reduce_map(call: Call) -> str:
    m, init, fn = call.sql
    acc = "__ksql_acc_"
    body = inline(fn, [acc, f"{_E}.key", f"{_E}.value"])
    return (
        f"list_reduce(coalesce(map_entries({m}), []), lambda {acc}, {_E}: {body}, {init})"
    )


def _reduce_array(call: Call) -> str:
    arr, init, fn = call.sql
    # A NULL array reduces to the initial state, as in ksqlDB.
    return f"list_reduce(coalesce({arr}, []), {fn}, {init})"


def _reduce_type(call: Call) -> Compiled:
    return Compiled(_reduce_array(call) if call.arg_types[0].base == "ARRAY" else _reduce_map(call),
                    call.rtype)


def load() -> None:
    """Register the lambda functions."""
    scalar("TRANSFORM", "LAMBDA", "Apply a function to each element of an array, or each entry of a map.", [
        sig("ARRAY<T>, (T) => U -> ARRAY<U>", "list_transform({0}, {1})"),
        sig("MAP<K, V>, (K, V) => K2, (K, V) => V2 -> MAP<K2, V2>", _transform_map),
    ])
    scalar("FILTER", "LAMBDA", "Keep the array elements or map entries the predicate accepts.", [
        sig("ARRAY<T>, (T) => BOOLEAN -> ARRAY<T>", "list_filter({0}, {1})"),
        sig("MAP<K, V>, (K, V) => BOOLEAN -> MAP<K, V>", _filter_map),
    ])
    scalar("REDUCE", "LAMBDA", "Fold an array or map into a single value from an initial state.", [
        sig("ARRAY<T>, S, (S, T) => S -> S", _reduce_type),
        sig("MAP<K, V>, S, (S, K, V) => S -> S", _reduce_type),
    ])


__all__ = ["common_type", "compile_lambda", "load"]
