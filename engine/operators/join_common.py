"""Shared pieces of the join operators: row layouts, SQL helpers, persisted counters.

Every join input and output is an Arrow table in one layout: the data columns (joined names,
``<ALIAS>_<COLUMN>``) then ``__JK`` (the join key of the next join), ``__TS`` (event time),
``__DEL`` (a table row's delete), ``__P``/``__O`` (partition and offset of the record that caused
the row) and ``__SEQ`` (emission order, 0..n-1). A join's output has the left input's data
columns, then the right input's.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa

from engine.expressions.scope import quote_ident as q
from engine.state import store

INTERNAL = ("__JK", "__TS", "__DEL", "__P", "__O")
MIN_TIME = -(2**62)  # "no stream time yet", with room below for subtracting retention
META_TABLE = "__streamsql_join_meta"


@dataclass(frozen=True, slots=True)
class Side:
    """The data columns (name, DuckDB type) of one join input and its key type."""

    columns: tuple[tuple[str, str], ...]
    key_type: str

    @property
    def names(self) -> list[str]:
        """Data column names."""
        return [n for n, _ in self.columns]

    def refs(self, alias: str) -> list[str]:
        """``alias."col"`` for each data column."""
        return [f"{alias}.{q(n)}" for n in self.names]

    def nulls(self) -> list[str]:
        """Typed NULLs named like the data columns (the missing side of an outer join)."""
        return [f"CAST(NULL AS {t}) AS {q(n)}" for n, t in self.columns]

    def ddl(self) -> str:
        """Column definitions of the data columns."""
        return ", ".join(f"{q(n)} {t}" for n, t in self.columns)


def layout(this_left: bool, this_cols: list[str], other_cols: list[str]) -> str:
    """The select list of a join output: left input's columns first."""
    cols = this_cols + other_cols if this_left else other_cols + this_cols
    return ", ".join(cols)


def state_name(query_id: str, node: int, part: str) -> str:
    """A join state table of a query."""
    return q(f"__join_{query_id}_{node}_{part}")


def finish(table: pa.Table) -> pa.Table:
    """Drop the ordering helper columns and number the rows in their (already sorted) order."""
    keep = [n for n in table.column_names if not n.startswith("__S")]
    out = table.select(keep)
    return out.append_column("__SEQ", pa.array(np.arange(out.num_rows, dtype=np.int64)))


def run(cur: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """One statement's result as Arrow."""
    return cur.sql(sql).to_arrow_table()


class Meta:
    """Per-query counters (stream times, insertion counters) saved with the join state."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, query_id: str) -> None:
        self._query_id = query_id
        cur.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (query_id VARCHAR, name VARCHAR, value BIGINT, "
                    f"PRIMARY KEY (query_id, name))")
        self.values: dict[str, int] = {}
        self._saved: dict[str, int] = {}
        self.load(cur)

    def load(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Re-read the saved values (after a rollback, or at start)."""
        rows = cur.execute(f"SELECT name, value FROM {META_TABLE} WHERE query_id = ?", [self._query_id]).fetchall()
        self.values = {str(n): int(v) for n, v in rows}
        self._saved = dict(self.values)

    def get(self, name: str, default: int = MIN_TIME) -> int:
        """A saved value."""
        return self.values.get(name, default)

    def save(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Upsert the changed values in one statement (inside the state transaction)."""
        changed = [(n, v) for n, v in self.values.items() if self._saved.get(n) != v]
        if not changed:
            return
        store.save_values(cur, META_TABLE, {"query_id": self._query_id}, "name", "value", dict(changed))
        self._saved = dict(self.values)

    def drop(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Forget the query's values."""
        cur.execute(f"DELETE FROM {META_TABLE} WHERE query_id = ?", [self._query_id])


def unregister(cur: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop a registered batch; after a failed statement the transaction refuses it until the
    rollback, and the original error is the one to report."""
    try:
        cur.unregister(name)
    except duckdb.Error:
        pass
