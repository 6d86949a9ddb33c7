"""ksql expressions -> vectorised DuckDB SQL, plus the function registry.

Typical use by the engine::

    from engine.expressions import Scope, compile_expression, setup_connection
    setup_connection(con)                       # once per DuckDB connection
    scope = Scope.of_columns([("ID", INTEGER), ("NAME", STRING)])
    c = compile_expression(expr, scope)         # Compiled(sql, type)
    con.sql(f'SELECT {c.sql} AS "c1" FROM batch')
"""

from __future__ import annotations

from engine.expressions.compiled import Compiled
from engine.expressions.compiler import compile_expression
from engine.expressions.errors import (
    AmbiguousColumnError,
    ExpressionError,
    UnknownColumnError,
    UnknownFunctionError,
)
from engine.expressions.formatter import format_expression
from engine.expressions.functions import (
    all_functions,
    function_kind,
    get_function,
    return_type,
    setup_connection,
)
from engine.expressions.scope import Scope, ScopeEntry, quote_ident
from engine.expressions.typesys import NULL_TYPE

__all__ = [
    "NULL_TYPE", "AmbiguousColumnError", "Compiled", "ExpressionError", "Scope", "ScopeEntry",
    "UnknownColumnError", "UnknownFunctionError", "all_functions", "compile_expression",
    "format_expression", "function_kind", "get_function", "quote_ident", "return_type",
    "setup_connection",
]
