"""ksqlDB's function library, compiled to DuckDB SQL."""

from __future__ import annotations

from engine.expressions.functions.registry import (
    FunctionDef,
    all_functions,
    function_kind,
    get_function,
    return_type,
)
from engine.expressions.functions.runtime import setup_connection

__all__ = [
    "FunctionDef", "all_functions", "function_kind", "get_function", "return_type",
    "setup_connection",
]
