"""Expression scopes over decoded source batches."""

from __future__ import annotations

from engine.catalog import PSEUDO_COLUMNS, WINDOW_BOUNDS, Source
from engine.expressions.scope import Scope, ScopeEntry, quote_ident
from parser.statements import SqlType


def source_columns(source: Source) -> list[tuple[str, SqlType]]:
    """Every column a query over ``source`` can read: stored, pseudo and window-bound columns."""
    cols = [(c.name, c.type) for c in source.columns]
    cols += list(PSEUDO_COLUMNS.items())
    if source.window is not None:
        cols += list(WINDOW_BOUNDS.items())
    return cols


def source_scope(source: Source, alias: str | None, prefix: str = "") -> Scope:
    """The scope of one source; batch columns are ``prefix + name``; qualified by alias or name."""
    qualifier = alias or source.name
    return Scope(ScopeEntry(qualifier, name, quote_ident(prefix + name), t)
                 for name, t in source_columns(source))
