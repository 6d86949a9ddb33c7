"""Loads every function family into the registry."""

from __future__ import annotations

import importlib

_FAMILIES = [
    "lambdas", "sci", "conditional", "strings", "numeric", "temporal", "collections", "jsonfns", "misc", "aggregates",
]


def load_all() -> None:
    """Import each family module and run its ``load()`` (if any)."""
    for family in _FAMILIES:
        module = importlib.import_module(f"engine.expressions.functions.{family}")
        loader = getattr(module, "load", None)
        if loader is not None:
            loader()
