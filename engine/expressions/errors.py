"""Errors raised while type-checking and compiling ksql expressions."""

from __future__ import annotations


class ExpressionError(Exception):
    """A semantic error in an expression; ``message`` is ksqlDB's wording where known."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownColumnError(ExpressionError):
    """A column reference that no source in scope provides."""

    def __init__(self, name: str, clause: str = "SELECT") -> None:
        super().__init__(f"{clause} column '{name}' cannot be resolved.")
        self.name = name
        self.clause = clause


class AmbiguousColumnError(ExpressionError):
    """An unqualified column name that more than one source provides."""

    def __init__(self, name: str, candidates: list[str]) -> None:
        options = " or ".join(candidates) if len(candidates) <= 2 else (
            ", ".join(candidates[:-1]) + " or " + candidates[-1]
        )
        super().__init__(f"Column '{name}' is ambiguous. Could be {options}.")
        self.name = name
        self.candidates = candidates


class UnknownFunctionError(ExpressionError):
    """A call to a function the registry does not know."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Can't find any functions with the name '{name}'")
        self.name = name
