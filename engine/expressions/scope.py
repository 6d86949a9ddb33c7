"""The columns an expression can see, and how to reference them in the batch SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.expressions.errors import AmbiguousColumnError, UnknownColumnError
from parser.statements import SqlType


def quote_ident(name: str) -> str:
    """A DuckDB double-quoted identifier (embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class ScopeEntry:
    """One visible column.

    Attributes:
        source: the source alias that qualifies it (``L`` in ``L.NAME``), or None.
        name: the column name as written after normalisation (``NAME``).
        ref: the SQL text that reads it from the batch, e.g. ``"L_NAME"``.
        type: its ksqlDB type.
    """

    source: str | None
    name: str
    ref: str
    type: SqlType


class Scope:
    """Resolves column references (qualified or not) to batch columns.

    Build one per evaluation site, e.g. ``Scope.of_columns([("ID", INTEGER), ...])`` for a
    single source whose batch columns carry the same names, or ``Scope(entries)`` for joins
    where ``L.NAME`` lives in batch column ``L_NAME``.
    """

    def __init__(self, entries: Iterable[ScopeEntry] = ()) -> None:
        self.entries: tuple[ScopeEntry, ...] = tuple(entries)

    @classmethod
    def of_columns(
        cls, columns: Iterable[tuple[str, SqlType]], source: str | None = None
    ) -> Scope:
        """A scope over batch columns named exactly like the ksql columns."""
        return cls(ScopeEntry(source, name, quote_ident(name), t) for name, t in columns)

    def extend(self, entries: Iterable[ScopeEntry]) -> Scope:
        """A new scope with ``entries`` added."""
        return Scope(self.entries + tuple(entries))

    def resolve(self, name: str, qualifier: str | None = None, clause: str = "SELECT") -> ScopeEntry:
        """Find the entry for ``qualifier.name`` (or unqualified ``name``).

        Raises:
            UnknownColumnError: nothing matches (ksqlDB: "SELECT column 'X' cannot be resolved.").
            AmbiguousColumnError: an unqualified name matches columns of several sources.
        """
        if qualifier is not None:
            matches = [e for e in self.entries if e.source == qualifier and e.name == name]
            if not matches:
                # A single-source scope may be addressed by the source name without aliases.
                raise UnknownColumnError(f"{qualifier}.{name}", clause)
            return matches[0]
        matches = [e for e in self.entries if e.name == name]
        if not matches:
            raise UnknownColumnError(name, clause)
        sources = {e.source for e in matches}
        if len(sources) > 1:
            raise AmbiguousColumnError(name, [f"{e.source}.{e.name}" for e in matches])
        return matches[0]

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{e.source + '.' if e.source else ''}{e.name}:{e.type.sql()}" for e in self.entries
        )
        return f"Scope({inner})"
