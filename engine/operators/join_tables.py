"""Joins with a table input: stream-table, table-table on the primary key, and foreign-key joins.

A table input keeps its current rows in a DuckDB table keyed by the join key (the primary key),
updated from each batch of changes (last change per key; a delete removes the row).

- Stream-table (KStreamKTableJoin): each stream record looks the table row up as of its arrival;
  the table side only updates state. Output time is the stream record's.
- Table-table (KTableKTable{Inner,Left,Outer}Join): each change looks the other side's row up and
  emits the new joined row, or a delete; ``max`` of both timestamps. The outer side of a left
  join emits a null-padded row, a change of the inner side emits only where the outer row exists.
  A delete of a key that had no row and no partner emits nothing.
- Foreign key (KIP-213, as ksqlDB uses it): the left table's rows carry the foreign key
  (``__JK``); a left change emits its new result (a delete where it had a result), a right change
  re-emits every left row referencing that key, in left key order, at the right record's time.
Within a batch, "did this key have a row before" is the previous change of the key in the batch
(``lag``) or else the stored row, so a batch gives the same output as one record at a time.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from engine.expressions.scope import quote_ident as q
from engine.operators.join_common import Side, finish, layout, run, state_name, unregister
from engine.planner.join_tree import JoinNode


def create_table_state(cur: duckdb.DuckDBPyConnection, table: str, side: Side) -> None:
    """The current rows of a table input."""
    cur.execute(f"CREATE TABLE IF NOT EXISTS {table} ({side.ddl()}, \"__JK\" {side.key_type}, \"__TS\" BIGINT, "
                f"\"__P\" INTEGER, \"__O\" BIGINT)")


def upsert(cur: duckdb.DuckDBPyConnection, table: str, side: Side, keys: list[str]) -> None:
    """Apply the batch ``d`` of changes to a table input's rows (last change per key wins)."""
    part = ", ".join(q(k) for k in keys)
    present = " AND ".join(f"{q(k)} IS NOT NULL" for k in keys)
    cur.execute(f'CREATE OR REPLACE TEMP TABLE "__jlast" AS SELECT * FROM __jdelta jx_d WHERE {present} '
                f'QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY "__SEQ" DESC) = 1')
    match = " AND ".join(f"{table}.{q(k)} = jx_l.{q(k)}" for k in keys)
    cur.execute(f'DELETE FROM {table} USING "__jlast" jx_l WHERE {match}')
    cols = ", ".join(q(n) for n in [*side.names, "__JK", "__TS", "__P", "__O"])
    cur.execute(f'INSERT INTO {table} SELECT {cols} FROM "__jlast" WHERE NOT "__DEL"')


class _TableNode:
    """State handling shared by the joins with table inputs."""

    def __init__(self, query_id: str, node: JoinNode, left: Side, right: Side) -> None:
        self.node = node
        self.sides = {"L": left, "R": right}
        self.tables = {s: state_name(query_id, node.index, s) for s in ("L", "R")}
        self.table_sides = ("R",) if node.left_kind == "STREAM" else ("L", "R")

    def create(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Create the current-rows tables of the table inputs."""
        for s in self.table_sides:
            create_table_state(cur, self.tables[s], self.sides[s])

    def drop(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Drop the state tables."""
        for s in self.table_sides:
            cur.execute(f"DROP TABLE IF EXISTS {self.tables[s]}")

    def keys(self, side: str) -> list[str]:
        """The columns a table input's rows are keyed by."""
        return ["__JK"]

    def process(self, cur: duckdb.DuckDBPyConnection, side: str, delta: pa.Table) -> pa.Table:
        """Join a batch of changes of input ``side``; the joined rows."""
        cur.register("__jdelta", delta)
        try:
            out = self.emit(cur, side)
            if side in self.table_sides:
                upsert(cur, self.tables[side], self.sides[side], self.keys(side))
        finally:
            unregister(cur, "__jdelta")
        return finish(out)

    def emit(self, cur: duckdb.DuckDBPyConnection, side: str) -> pa.Table:
        """The joined rows of the batch ``d`` of input ``side``."""
        raise NotImplementedError


class StreamTableJoin(_TableNode):
    """Stream records enriched with the table's current row."""

    def emit(self, cur: duckdb.DuckDBPyConnection, side: str) -> pa.Table:
        if side == "R":
            return pa.table({"__S1": pa.array([], pa.int64())})  # table changes only update the state
        join = "LEFT JOIN" if self.node.kind == "LEFT" else "JOIN"
        cols = layout(True, self.sides["L"].refs("jx_d"), self.sides["R"].refs("jx_t"))
        return run(cur, f'SELECT {cols}, jx_d."__JK", jx_d."__TS", false AS "__DEL", jx_d."__P", jx_d."__O", jx_d."__SEQ" AS "__S1" '
                        f'FROM __jdelta jx_d {join} {self.tables["R"]} jx_t ON jx_t."__JK" = jx_d."__JK" '
                        f'WHERE NOT jx_d."__DEL" AND jx_d."__JK" IS NOT NULL ORDER BY jx_d."__SEQ"')


def _had_row(keys: list[str], state: str) -> tuple[str, str]:
    """(select expression: did the key have a row before this change, join with the stored rows)."""
    part = ", ".join(f'jx_d.{q(k)}' for k in keys)
    first = f"row_number() OVER (PARTITION BY {part} ORDER BY jx_d.\"__SEQ\") = 1"
    stored = f"jx_s.{q(keys[0])} IS NOT NULL"
    prev = f"lag(NOT jx_d.\"__DEL\") OVER (PARTITION BY {part} ORDER BY jx_d.\"__SEQ\")"
    match = " AND ".join(f"jx_s.{q(k)} = jx_d.{q(k)}" for k in keys)
    return f"CASE WHEN {first} THEN {stored} ELSE {prev} END AS \"__OLD\"", f"LEFT JOIN {state} jx_s ON {match}"


class TableTableJoin(_TableNode):
    """Primary-key join of two tables."""

    def emit(self, cur: duckdb.DuckDBPyConnection, side: str) -> pa.Table:
        other = "R" if side == "L" else "L"
        kind = self.node.kind
        outer_this = kind == "FULL" or (kind == "LEFT" and side == "L") or (kind == "RIGHT" and side == "R")
        inner_of_outer = (kind == "LEFT" and side == "R") or (kind == "RIGHT" and side == "L")
        old, join_state = _had_row(["__JK"], self.tables[side])
        this_cols = [f'CASE WHEN jx_d."__DEL" THEN NULL ELSE jx_d.{q(n)} END AS {q(n)}' for n in self.sides[side].names]
        cols = layout(side == "L", this_cols, self.sides[other].refs("jx_o"))
        present = 'jx_o."__JK" IS NOT NULL'
        if outer_this:
            emit = f'({present} OR NOT jx_d."__DEL" OR jx_d."__OLD")'
            delete = 'NOT (jx_o."__JK" IS NOT NULL OR NOT jx_d."__DEL")' if kind == "FULL" else 'jx_d."__DEL"'
        else:
            emit = present
            delete = "false" if inner_of_outer else 'jx_d."__DEL"'
        ts = f'CASE WHEN {present} THEN greatest(jx_d."__TS", jx_o."__TS") ELSE jx_d."__TS" END'
        return run(cur, f'WITH dd AS (SELECT jx_d.*, {old} FROM __jdelta jx_d {join_state} WHERE jx_d."__JK" IS NOT NULL) '
                        f'SELECT {cols}, jx_d."__JK", {ts} AS "__TS", {delete} AS "__DEL", jx_d."__P", jx_d."__O", '
                        f'jx_d."__SEQ" AS "__S1" FROM dd jx_d LEFT JOIN {self.tables[other]} jx_o ON jx_o."__JK" = jx_d."__JK" '
                        f'WHERE {emit} ORDER BY jx_d."__SEQ"')


class ForeignKeyJoin(_TableNode):
    """Foreign-key join: the left table's ``__JK`` is the foreign key into the right table."""

    def __init__(self, query_id: str, node: JoinNode, left: Side, right: Side, left_keys: list[str]) -> None:
        super().__init__(query_id, node, left, right)
        self.left_keys = left_keys

    def keys(self, side: str) -> list[str]:
        return self.left_keys if side == "L" else ["__JK"]

    def emit(self, cur: duckdb.DuckDBPyConnection, side: str) -> pa.Table:
        return self._left(cur) if side == "L" else self._right(cur)

    def _left(self, cur: duckdb.DuckDBPyConnection) -> pa.Table:
        old, join_state = _had_row(self.left_keys, self.tables["L"])
        left_join = self.node.kind == "LEFT"
        present = 'jx_r."__JK" IS NOT NULL'
        this_cols = [f'CASE WHEN jx_d."__DEL" THEN NULL ELSE jx_d.{q(n)} END AS {q(n)}' if n not in self.left_keys
                     else f"jx_d.{q(n)}" for n in self.sides["L"].names]
        cols = layout(True, this_cols, self.sides["R"].refs("jx_r"))
        if left_join:
            emit = 'CASE WHEN jx_d."__DEL" THEN jx_d."__OLD" ELSE true END'
            delete = 'jx_d."__DEL"'
        else:
            emit = f'CASE WHEN jx_d."__DEL" THEN jx_d."__OLD" ELSE {present} OR jx_d."__OLD" END'
            delete = f'jx_d."__DEL" OR NOT {present}'
        ts = f'CASE WHEN {present} THEN greatest(jx_d."__TS", jx_r."__TS") ELSE jx_d."__TS" END'
        present_keys = " AND ".join(f"jx_d.{q(k)} IS NOT NULL" for k in self.left_keys)
        return run(cur, f'WITH dd AS (SELECT jx_d.*, {old} FROM __jdelta jx_d {join_state} WHERE {present_keys}) '
                        f'SELECT {cols}, jx_d."__JK", {ts} AS "__TS", {delete} AS "__DEL", jx_d."__P", jx_d."__O", '
                        f'jx_d."__SEQ" AS "__S1" FROM dd jx_d LEFT JOIN {self.tables["R"]} jx_r '
                        f'ON jx_r."__JK" = jx_d."__JK" AND NOT jx_d."__DEL" WHERE {emit} ORDER BY jx_d."__SEQ"')

    def _right(self, cur: duckdb.DuckDBPyConnection) -> pa.Table:
        right_cols = [f'CASE WHEN jx_d."__DEL" THEN NULL ELSE jx_d.{q(n)} END AS {q(n)}' for n in self.sides["R"].names]
        cols = layout(False, right_cols, self.sides["L"].refs("jx_s"))
        delete = 'jx_d."__DEL"' if self.node.kind != "LEFT" else "false"
        order = ", ".join(f"jx_s.{q(k)}" for k in self.left_keys)
        return run(cur, f'SELECT {cols}, jx_s."__JK", jx_d."__TS", {delete} AS "__DEL", jx_d."__P", jx_d."__O", '
                        f'jx_d."__SEQ" AS "__S1" FROM __jdelta jx_d JOIN {self.tables["L"]} jx_s ON jx_s."__JK" = jx_d."__JK" '
                        f'WHERE jx_d."__JK" IS NOT NULL ORDER BY jx_d."__SEQ", {order}')
