"""JSON functions over JSON text (invalid JSON yields NULL, never an error)."""

from __future__ import annotations

from engine.expressions.functions.registry import Call, scalar
from engine.expressions.functions.runtime import macro
from engine.expressions.functions.signatures import sig

_MACROS = [
    "ksql_json(s) AS TRY(json(s))",
    # ksqlDB returns string values unquoted and anything else as JSON text.
    "ksql_extract_json(s, p) AS CASE WHEN json_type(ksql_json(s), p) = 'VARCHAR'"
    " THEN json_extract_string(ksql_json(s), p) WHEN json_type(ksql_json(s), p) = 'NULL' THEN NULL"
    " ELSE CAST(json_extract(ksql_json(s), p) AS VARCHAR) END",
    "ksql_json_array_contains(s, v) AS CASE WHEN json_type(ksql_json(s)) = 'ARRAY'"
    " THEN list_contains(list_transform(CAST(ksql_json(s) AS JSON[]), lambda e: CAST(e AS VARCHAR)),"
    " CAST(to_json(v) AS VARCHAR)) ELSE false END",
]


def _to_json(call: Call) -> str:
    value, base = call.sql[0], call.arg_types[0].base
    # Top-level temporal and bytes values serialise as ksqlDB does (ISO text, base64).
    if base == "TIMESTAMP":
        value = f"strftime({value}, '%Y-%m-%dT%H:%M:%S.%g')"
    elif base == "TIME":
        value = f"strftime(DATE '1970-01-01' + {value}, '%H:%M:%S')"
    elif base == "BYTES":
        value = f"to_base64({value})"
    return f"CASE WHEN {value} IS NULL THEN 'null' ELSE CAST(to_json({value}) AS VARCHAR) END"


def _json_concat(call: Call) -> str:
    # Objects merge (later keys win); arrays concatenate; anything else (or a mix) is NULL.
    args = [f"ksql_json({a})" for a in call.sql]
    all_obj = " AND ".join(f"json_type({a}) = 'OBJECT'" for a in args)
    all_arr = " AND ".join(f"json_type({a}) = 'ARRAY'" for a in args)
    # Shallow merge: a later object's key replaces the whole earlier value.
    maps = ", ".join(f"CAST({a} AS MAP(VARCHAR, JSON))" for a in args)
    merged = f"to_json(map_concat({maps}))"
    arrays = " || ".join(f"CAST({a} AS JSON[])" for a in args)
    return (f"CASE WHEN {all_obj} THEN CAST({merged} AS VARCHAR) "
            f"WHEN {all_arr} THEN CAST(to_json({arrays}) AS VARCHAR) END")


def load() -> None:
    """Register the JSON functions."""
    for definition in _MACROS:
        macro(definition)
    scalar("EXTRACTJSONFIELD", "JSON", "Extract a field from JSON text with a JSONPath.", [
        sig("STRING, STRING -> STRING", "ksql_extract_json({0}, {1})")])
    scalar("JSON_ARRAY_CONTAINS", "JSON", "True when a JSON array text contains the value.", [
        sig("STRING, ANY -> BOOLEAN", "ksql_json_array_contains({0}, {1})")])
    scalar("IS_JSON_STRING", "JSON", "True when the text is valid JSON.", [
        sig("STRING -> BOOLEAN", "coalesce(json_valid({0}), false)")])
    scalar("JSON_ARRAY_LENGTH", "JSON", "Length of a JSON array text (NULL if not an array).", [
        sig("STRING -> INTEGER",
            "CASE WHEN json_type(ksql_json({0})) = 'ARRAY' THEN CAST(json_array_length(ksql_json({0})) AS INTEGER) END")])
    scalar("JSON_KEYS", "JSON", "Keys of a JSON object text (NULL if not an object).", [
        sig("STRING -> ARRAY<STRING>",
            "CASE WHEN json_type(ksql_json({0})) = 'OBJECT' THEN json_keys(ksql_json({0})) END")])
    scalar("JSON_RECORDS", "JSON", "Map of key to JSON text value of a JSON object text.", [
        sig("STRING -> MAP<STRING, STRING>",
            "CASE WHEN json_type(ksql_json({0})) = 'OBJECT' THEN map_from_entries(list_transform("
            "map_entries(CAST(ksql_json({0}) AS MAP(VARCHAR, JSON))), lambda __j_: struct_pack(key := __j_.key,"
            " value := CASE WHEN json_type(__j_.value) = 'VARCHAR' THEN json_extract_string(__j_.value, '$')"
            " ELSE CAST(__j_.value AS VARCHAR) END))) END")])
    scalar("JSON_CONCAT", "JSON", "Merge JSON objects or concatenate JSON arrays.", [
        sig("STRING... -> STRING", _json_concat)])
    scalar("TO_JSON_STRING", "JSON", "Serialise any value to JSON text.", [sig("ANY -> STRING", _to_json)])
