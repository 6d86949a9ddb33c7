"""Array and map functions (element order follows ksqlDB: first occurrence wins)."""

from __future__ import annotations

from engine import types as T
from engine.expressions.compiled import Compiled
from engine.expressions.functions.registry import Call, scalar
from engine.expressions.functions.runtime import macro
from engine.expressions.functions.signatures import sig

_MACROS = [
    # Order-preserving distinct (DuckDB's list_distinct reorders and drops NULLs).
    "ksql_distinct(a) AS list_filter(a, lambda x, i: list_position(a, x) = i)",
    "ksql_array_except(a, b) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL"
    " ELSE list_filter(ksql_distinct(a), lambda x: NOT list_contains(b, x)) END",
    "ksql_array_intersect(a, b) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL"
    " ELSE list_filter(ksql_distinct(a), lambda x: list_contains(b, x)) END",
    "ksql_array_union(a, b) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL"
    " ELSE ksql_distinct(list_concat(a, b)) END",
    "ksql_array_concat(a, b) AS CASE WHEN a IS NULL AND b IS NULL THEN NULL"
    " ELSE list_concat(coalesce(a, []), coalesce(b, [])) END",
]


def _entries(call: Call) -> Compiled:
    m, sort = call.sql
    vtype = call.args[0].type.items[1]
    e = call.compiler.fresh_lambda_var() if call.compiler else "__e_"
    items = f"list_transform(map_entries({m}), lambda {e}: struct_pack(\"K\" := {e}.key, \"V\" := {e}.value))"
    sql = f"CASE WHEN {sort} THEN list_sort({items}) ELSE {items} END"
    return Compiled(sql, T.array(T.struct([("K", T.STRING), ("V", vtype)])))


def _array_join(call: Call) -> str:
    arr = call.sql[0]
    delim = call.sql[1] if len(call.sql) > 1 else "','"
    v = call.compiler.fresh_lambda_var() if call.compiler else "__v_"
    return f"array_to_string(list_transform({arr}, lambda {v}: coalesce(CAST({v} AS VARCHAR), 'null')), {delim})"


def _array_sort(call: Call) -> str:
    arr = call.sql[0]
    if len(call.sql) == 1:
        return f"list_sort({arr}, 'ASC', 'NULLS LAST')"
    return (f"CASE WHEN upper({call.sql[1]}) = 'DESC' THEN list_sort({arr}, 'DESC', 'NULLS LAST') "
            f"WHEN upper({call.sql[1]}) = 'ASC' THEN list_sort({arr}, 'ASC', 'NULLS LAST') END")


def _register_arrays() -> None:
    scalar("ARRAY_CONTAINS", "ARRAY", "True when the array contains the value.", [
        sig("ARRAY<T>, T -> BOOLEAN", "coalesce(list_contains({0}, {1}), false)")])
    scalar("ARRAY_DISTINCT", "ARRAY", "Distinct elements, in first-occurrence order.", [
        sig("ARRAY<T> -> ARRAY<T>", "ksql_distinct({0})")])
    scalar("ARRAY_EXCEPT", "ARRAY", "Distinct elements of the first array not in the second.", [
        sig("ARRAY<T>, ARRAY<T> -> ARRAY<T>", "ksql_array_except({0}, {1})")])
    scalar("ARRAY_INTERSECT", "ARRAY", "Distinct elements present in both arrays.", [
        sig("ARRAY<T>, ARRAY<T> -> ARRAY<T>", "ksql_array_intersect({0}, {1})")])
    scalar("ARRAY_UNION", "ARRAY", "Distinct elements of either array.", [
        sig("ARRAY<T>, ARRAY<T> -> ARRAY<T>", "ksql_array_union({0}, {1})")])
    scalar("ARRAY_CONCAT", "ARRAY", "The two arrays concatenated.", [
        sig("ARRAY<T>, ARRAY<T> -> ARRAY<T>", "ksql_array_concat({0}, {1})")])
    scalar("ARRAY_JOIN", "ARRAY", "Join elements into a string (default delimiter ',').", [
        sig("ARRAY<T> -> STRING", _array_join), sig("ARRAY<T>, STRING -> STRING", _array_join)])
    scalar("ARRAY_LENGTH", "ARRAY", "Number of elements.", [
        sig("ARRAY<T> -> INTEGER", "CAST(len({0}) AS INTEGER)")])
    scalar("ARRAY_MAX", "ARRAY", "Largest non-null element.", [sig("ARRAY<T> -> T", "list_max({0})")])
    scalar("ARRAY_MIN", "ARRAY", "Smallest non-null element.", [sig("ARRAY<T> -> T", "list_min({0})")])
    scalar("ARRAY_REMOVE", "ARRAY", "The array without elements equal to the value.", [
        sig("ARRAY<T>, T -> ARRAY<T>", "list_filter({0}, lambda __x_: __x_ IS DISTINCT FROM {1})")])
    scalar("ARRAY_SORT", "ARRAY", "Sorted array (ASC default, or DESC); NULLs last.", [
        sig("ARRAY<T> -> ARRAY<T>", _array_sort), sig("ARRAY<T>, STRING -> ARRAY<T>", _array_sort)])
    scalar("SLICE", "ARRAY", "Elements from a 1-based start to an end position, inclusive.", [
        sig("ARRAY<T>, INTEGER, INTEGER -> ARRAY<T>",
            "CASE WHEN {1} IS NULL OR {2} IS NULL THEN NULL ELSE list_slice({0}, {1}, {2}) END")])
    scalar("GENERATE_SERIES", "ARRAY", "Array of values from start to end (inclusive) by step.", [
        sig("INTEGER, INTEGER -> ARRAY<INTEGER>", "CAST(generate_series({0}, {1}, CASE WHEN {0} <= {1} THEN 1 ELSE -1 END) AS INTEGER[])"),
        sig("INTEGER, INTEGER, INTEGER -> ARRAY<INTEGER>", "CAST(generate_series({0}, {1}, {2}) AS INTEGER[])"),
        sig("BIGINT, BIGINT -> ARRAY<BIGINT>", "generate_series({0}, {1}, CASE WHEN {0} <= {1} THEN 1 ELSE -1 END)"),
        sig("BIGINT, BIGINT, INTEGER -> ARRAY<BIGINT>", "generate_series({0}, {1}, {2})")])


def _register_maps() -> None:
    scalar("MAP_KEYS", "MAP", "The keys of a map.", [sig("MAP<K, V> -> ARRAY<K>", "map_keys({0})")])
    scalar("MAP_VALUES", "MAP", "The values of a map.", [sig("MAP<K, V> -> ARRAY<V>", "map_values({0})")])
    scalar("MAP_UNION", "MAP", "Merge two maps; the second wins on equal keys.", [
        sig("MAP<K, V>, MAP<K, V> -> MAP<K, V>",
            "CASE WHEN {0} IS NULL AND {1} IS NULL THEN NULL ELSE map_concat(coalesce({0}, MAP()), coalesce({1}, MAP())) END")])
    scalar("AS_MAP", "MAP", "Build a map from an array of keys and an array of values.", [
        sig("ARRAY<K>, ARRAY<V> -> MAP<K, V>",
            "ksql_map_from_entries(list_transform(list_zip({0}, {1}), lambda __z_: "
            "struct_pack(key := __z_[1], value := __z_[2])))")])
    scalar("ENTRIES", "MAP", "Array of STRUCT<K, V> map entries, optionally sorted by key.", [
        sig("MAP<STRING, V>, BOOLEAN -> ARRAY<STRING>", _entries)])


def load() -> None:
    """Register the collection functions."""
    for definition in _MACROS:
        macro(definition)
    _register_arrays()
    _register_maps()
