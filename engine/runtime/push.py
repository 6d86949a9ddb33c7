"""Transient push queries that stream rows as their source grows (shell, server, clients).

``Engine.push_query(sql)`` plans the query like a persistent one but with no sink: a transient
``RunningQuery`` whose processor appends result rows to an in-memory queue, read with
``poll``. It starts from the earliest offset (``auto.offset.reset=earliest``, the default) or
the latest, runs on the engine's runtime loop (or is stepped by ``poll`` when no loop runs),
and ends at LIMIT or ``close``.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from engine.catalog import QueryInfo
from parser.statements import SqlType

if TYPE_CHECKING:
    from engine.engine import Engine

_ids = itertools.count(1)


def next_transient_id() -> str:
    """ksqlDB-style id of a transient query."""
    return f"transient_{next(_ids)}"


class PushQuery:
    """Handle of a running push query."""

    def __init__(self, engine: Engine, info: QueryInfo, columns: list[tuple[str, SqlType]],
                 limit: int | None) -> None:
        self.engine = engine
        self.info = info
        self.id = info.id
        self.columns = columns
        self.limit = limit
        self._rows: deque[list[Any]] = deque()
        self._emitted = 0
        self._cond = threading.Condition()
        self.closed = False
        self.on_close: Callable[[], None] | None = None  # frees transient state (aggregations)

    @property
    def done(self) -> bool:
        """True once LIMIT rows were emitted or the query was closed."""
        return self.closed or (self.limit is not None and self._emitted >= self.limit)

    def offer(self, table: pa.Table) -> None:
        """Called by the processor with result rows (in select order)."""
        if self.done or table.num_rows == 0:
            return
        rows = [list(r.values()) for r in table.to_pylist()]
        if self.limit is not None:
            rows = rows[: self.limit - self._emitted]
        with self._cond:
            self._rows.extend(rows)
            self._emitted += len(rows)
            self._cond.notify_all()
        if self.done:
            self._finish()

    def poll(self, timeout: float | None = 0.0) -> list[list[Any]]:
        """Rows produced since the last poll; waits up to ``timeout`` seconds for at least one.

        With no runtime thread, the engine is stepped here so rows still flow.
        """
        if not self._rows and not self.done and not self.engine.is_running():
            self.engine.run_until_idle()
        with self._cond:
            if not self._rows and not self.done and timeout:
                self._cond.wait(timeout)
            out = list(self._rows)
            self._rows.clear()
        return out

    def _finish(self) -> None:
        self.engine.remove_query(self.id)
        if self.on_close is not None:
            callback, self.on_close = self.on_close, None
            callback()

    def close(self) -> None:
        """Stop the query (Ctrl-C in the shell, /close-query on the server)."""
        self.closed = True
        self._finish()
        with self._cond:
            self._cond.notify_all()
