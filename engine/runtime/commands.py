"""The command log: the statements that built the catalog, replayed on restart.

Like ksqlDB's command topic, the catalog is not stored as a snapshot but as the ordered list of
successful DDL and persistent-query statements. Replaying it rebuilds sources, types and queries
with the same ids; queries then resume from their committed offsets. Statements with effects on
data (INSERT ... VALUES) are never logged, so a replay writes no record twice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from parser import statements as st

if TYPE_CHECKING:
    from engine.engine import Engine

LOGGED = (st.CreateSource, st.CreateAsSelect, st.InsertInto, st.Drop, st.CreateType, st.DropType,
          st.AlterSource, st.Terminate, st.PauseResume)


class CommandLog:
    """Append-only JSON-lines file of statements (no file: in-memory engine, nothing kept)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.replaying = False
        self.restored: set[str] = set()  # texts of the statements replayed at start

    def append(self, statement: st.Statement, text: str) -> None:
        """Record a successful statement if it shapes the catalog."""
        if self.path is None or self.replaying or not isinstance(statement, LOGGED):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"sql": text}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def replay(self, engine: Engine) -> None:
        """Re-execute the logged statements against a fresh engine."""
        if self.path is None or not self.path.exists():
            return
        self.replaying = True
        try:
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    sql = json.loads(line)["sql"]
                    engine.execute(sql)
                    self.restored.add(sql.strip())
        finally:
            self.replaying = False
