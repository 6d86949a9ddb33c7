"""DuckDB for the engine: one database instance per process, one attached database per engine.

Creating the function macros costs tens of milliseconds, so they are created once per process
in the shared instance's default database (``memory``). Each engine attaches its own database
(in memory, or a file in its data dir) for its state, makes it current, and keeps ``memory.main``
on the search path so compiled SQL finds the macros. Every cursor handed out does the same.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import duckdb

from engine.expressions import setup_connection

_lock = threading.Lock()
_shared: duckdb.DuckDBPyConnection | None = None
_seq = itertools.count(1)


def shared_instance() -> duckdb.DuckDBPyConnection:
    """The process-wide DuckDB connection holding the function macros."""
    global _shared
    with _lock:
        if _shared is None:
            con = duckdb.connect()
            setup_connection(con, temp=False)
            _shared = con
        return _shared


class EngineDatabase:
    """An engine's own database inside the shared instance."""

    def __init__(self, path: Path | None = None) -> None:
        self.name = f"streamsql_{next(_seq)}"
        self.path = path
        self.con = shared_instance().cursor()
        target = str(path).replace("'", "''") if path is not None else ":memory:"
        self.con.execute(f"ATTACH '{target}' AS {self.name}")
        if path is not None:
            # State larger than memory spills here instead of failing (DuckDB's buffer manager).
            spill = str(path.parent / "duckdb_tmp").replace("'", "''")
            self.con.execute(f"SET temp_directory = '{spill}'")
        self._enter(self.con)

    def _enter(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"USE {self.name}")
        con.execute(f"SET search_path = '{self.name}.main,memory.main'")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new connection to this engine's database (one per query or thread)."""
        cur = self.con.cursor()
        self._enter(cur)
        return cur

    def close(self) -> None:
        """Detach the engine's database."""
        self.con.execute("USE memory")
        self.con.execute(f"DETACH {self.name}")
        self.con.close()
