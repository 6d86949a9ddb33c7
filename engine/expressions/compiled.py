"""The result of compiling one expression."""

from __future__ import annotations

from dataclasses import dataclass

from engine.expressions.typesys import duck
from parser.statements import SqlType


@dataclass(frozen=True, slots=True)
class Compiled:
    """A DuckDB SQL expression over the batch, and its ksqlDB type.

    Attributes:
        sql: DuckDB expression text; batch columns appear as double-quoted identifiers.
        type: the ksqlDB type of the value (``typesys.NULL_TYPE`` for a bare NULL).
    """

    sql: str
    type: SqlType

    def cast_to(self, target: SqlType) -> Compiled:
        """This value converted to ``target`` (no-op when the type already matches)."""
        if self.type == target:
            return self
        return Compiled(f"CAST({self.sql} AS {duck(target)})", target)
