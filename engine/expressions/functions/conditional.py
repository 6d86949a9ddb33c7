"""Null handling and conditional functions, plus the STRUCT / MAP constructors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.expressions import structures
from engine.expressions.functions.registry import Call, scalar, special
from engine.expressions.functions.signatures import sig

if TYPE_CHECKING:
    pass


def _greatest_least(call: Call, fn: str) -> str:
    # ksqlDB ignores NULL arguments (DuckDB's greatest does too).
    return f"{fn}({', '.join(call.sql)})"


def load() -> None:
    """Register the conditional functions and constructors."""
    special("STRUCT", "STRUCT", "Construct a struct from named fields: STRUCT(A := 1, B := 'x').",
            [], lambda c, args, node: structures.struct_constructor(c, args))
    special("MAP", "MAP", "Construct a map from entries: MAP('a' := 1, 'b' := 2).",
            [], lambda c, args, node: structures.map_constructor(c, args))
    scalar("COALESCE", "CONDITIONAL", "The first non-null argument.",
           [sig("T, T... -> T")], "coalesce({args})", display_name="COALESCE")
    scalar("IFNULL", "CONDITIONAL", "The first argument if not null, else the second.",
           [sig("T, T -> T")], "coalesce({0}, {1})")
    scalar("NULLIF", "CONDITIONAL", "NULL when both arguments are equal, else the first.",
           [sig("T, T -> T")], "nullif({0}, {1})")
    scalar("GREATEST", "CONDITIONAL", "The greatest non-null argument.",
           [sig("T, T... -> T")], lambda call: _greatest_least(call, "greatest"))
    scalar("LEAST", "CONDITIONAL", "The least non-null argument.",
           [sig("T, T... -> T")], lambda call: _greatest_least(call, "least"))
    scalar("AS_VALUE", "OTHER", "Copy a key column into the value.", [sig("T -> T")], "{0}")
