"""What the shell and `streamsql query` talk to: an engine in this process, or a server over HTTP.

Both backends offer the same small surface: run one statement, stream a push query, and a
snapshot of the catalog for completion. ``cli.client.RemoteBackend`` is the HTTP one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from cli.adhoc import Dialect, run_query_sql
from cli.entities import Result
from engine.engine import Engine
from engine.runtime.push import PushQuery


@dataclass(slots=True)
class CatalogView:
    """Names the completer offers: sources with their columns, and topics."""

    streams: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    columns: dict[str, list[str]] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)


class QueryStream(Protocol):
    """A running push query whose rows are read as they arrive."""

    columns: list[tuple[str, str]]
    query_id: str | None

    @property
    def done(self) -> bool:
        """True once the query ended (LIMIT reached, closed, server ended it)."""
        ...

    def poll(self, timeout: float) -> list[list[Any]]:
        """Rows since the last poll; waits up to ``timeout`` seconds for some."""
        ...

    def close(self) -> None:
        """Stop the query."""
        ...


class Backend(Protocol):
    """An engine to run statements on."""

    def execute(self, sql: str, dialect: Dialect = "auto") -> list[Result]:
        """Run statements (queries run over the data present now); raises on the first error."""
        ...

    def stream(self, sql: str) -> QueryStream:
        """Start a push query."""
        ...

    def catalog(self) -> CatalogView:
        """A snapshot of the catalog for completion."""
        ...

    def describe(self) -> str:
        """Where the statements run, for the banner and the `server` command."""
        ...

    @property
    def variables(self) -> dict[str, str]:
        """Session variables (DEFINE) substituted into statements."""
        ...

    def close(self) -> None:
        """Release the backend."""
        ...


class LocalStream:
    """A push query of an in-process engine."""

    def __init__(self, push: PushQuery) -> None:
        self.push = push
        self.columns = [(name, type_.sql()) for name, type_ in push.columns]
        self.query_id: str | None = push.id

    @property
    def done(self) -> bool:
        """True once LIMIT rows were emitted or the query was closed."""
        return self.push.done

    def poll(self, timeout: float) -> list[list[Any]]:
        """Rows since the last poll."""
        return self.push.poll(timeout)

    def close(self) -> None:
        """Stop the query."""
        self.push.close()


class LocalBackend:
    """An engine in this process (it owns the data dir while the shell runs)."""

    def __init__(self, engine: Engine, where: str) -> None:
        self.engine = engine
        self.where = where

    def execute(self, sql: str, dialect: Dialect = "auto") -> list[Result]:
        """Run statements on the engine."""
        return run_query_sql(self.engine, sql, dialect)

    def stream(self, sql: str) -> QueryStream:
        """Start a push query on the engine."""
        return LocalStream(self.engine.push_query(sql))

    def catalog(self) -> CatalogView:
        """Sources, columns and topics, read under the engine's lock."""
        view = CatalogView()
        with self.engine.lock:
            for name, src in sorted(self.engine.catalog.sources.items()):
                (view.tables if src.kind == "TABLE" else view.streams).append(name)
                view.columns[name] = [c.name for c in src.columns]
            view.topics = sorted(self.engine.store.list_topics())
            view.queries = sorted(self.engine.catalog.queries)
        return view

    def describe(self) -> str:
        """Where statements run."""
        return self.where

    @property
    def variables(self) -> dict[str, str]:
        """The engine's variables (DEFINE runs on the engine)."""
        return self.engine.variables

    def close(self) -> None:
        """Stop the engine's queries and release its store and state."""
        self.engine.close()
