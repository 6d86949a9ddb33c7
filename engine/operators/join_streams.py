"""Stream-stream windowed joins (Kafka Streams' KStreamKStreamJoin), a batch at a time.

State per join: one window buffer per input (DuckDB table of its recent records, keyed by the
join key, with timestamp and insertion order), and for outer joins with a GRACE PERIOD the
"outer store" of records still waiting for a partner.

Per batch of one input (records in offset order, ``__SEQ``), in one SQL statement each:
- matches: the other buffer's records with the same key and a timestamp in
  ``[ts - before, ts + after]`` (mirrored for the right input), not yet expired; each emits a
  joined row at ``max(ts, other ts)``, in the other records' timestamp order;
- without GRACE PERIOD (ksqlDB's legacy windows) an outer side emits its unmatched record at
  once, null-padded;
- with GRACE PERIOD (Kafka Streams' spurious-result fix) an unmatched record waits in the outer
  store and is emitted null-padded once stream time passes ``ts + after + grace``, at the first
  later record whose timestamp is the stream time (in timestamp, side, key order); a match
  removes the partner's waiting entry; a record already past its window is emitted at once;
- then the batch's records go into this input's buffer, unless already expired (older than the
  buffer's stream time minus ``before + after + grace``), and expired records are purged.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from engine.expressions.scope import quote_ident as q
from engine.operators.join_common import Meta, Side, finish, layout, run, state_name, unregister
from engine.planner.join_tree import JoinNode

DAY_MS = 24 * 3600 * 1000
_VALID = 'NOT jx_d."__DEL" AND jx_d."__JK" IS NOT NULL'


class StreamStreamJoin:
    """One stream-stream join node (see the module docstring)."""

    def __init__(self, query_id: str, node: JoinNode, left: Side, right: Side, meta: Meta) -> None:
        assert node.within is not None
        self.node = node
        self.sides = {"L": left, "R": right}
        self.meta = meta
        self.prefix = f"n{node.index}"
        self.before, self.after = node.within.before_ms, node.within.after_ms
        self.spurious_fix = node.within.grace_ms is not None
        # ksqlDB without GRACE PERIOD uses JoinWindows.of(): grace 24h minus twice the window.
        self.grace = node.within.grace_ms if node.within.grace_ms is not None else max(DAY_MS - 2 * self.before, 0)
        self.retention = self.before + self.after + self.grace
        self.outer = {"L": node.kind in ("LEFT", "FULL"), "R": node.kind in ("RIGHT", "FULL")}
        self.tables = {s: state_name(query_id, node.index, s) for s in ("L", "R", "X")}

    def create(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Create the buffers (and the outer store)."""
        for s in ("L", "R"):
            side = self.sides[s]
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self.tables[s]} ({side.ddl()}, \"__JK\" {side.key_type}, "
                        f"\"__TS\" BIGINT, \"__ORD\" BIGINT, \"__P\" INTEGER, \"__O\" BIGINT)")
        if self.spurious_fix:
            left, right = self.sides["L"], self.sides["R"]
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self.tables['X']} ({left.ddl()}, {right.ddl()}, "
                        f"\"__SIDE\" INTEGER, \"__JK\" {left.key_type}, \"__TS\" BIGINT, \"__ORD\" BIGINT, "
                        f"\"__P\" INTEGER, \"__O\" BIGINT)")

    def drop(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Drop the state tables."""
        for table in self.tables.values():
            cur.execute(f"DROP TABLE IF EXISTS {table}")

    def _key(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def process(self, cur: duckdb.DuckDBPyConnection, side: str, delta: pa.Table) -> pa.Table:
        """Join a batch of input ``side`` (L or R) against the other buffer; the joined rows."""
        other = "R" if side == "L" else "L"
        cur.register("__jdelta", delta)
        try:
            min_live = self.meta.get(self._key(f"st_{other}")) - self.retention
            if self.spurious_fix:
                out = self._outer_step(cur, side, min_live)
            else:
                out = run(cur, self._legacy_sql(side, min_live))
            self._buffer(cur, side, delta)
        finally:
            unregister(cur, "__jdelta")
        return finish(out)

    # -- matching ---------------------------------------------------------------------------

    def _window(self, side: str) -> tuple[int, int]:
        return (self.before, self.after) if side == "L" else (self.after, self.before)

    def _match_cond(self, side: str, min_live: int) -> str:
        before, after = self._window(side)
        return (f'jx_o."__JK" = jx_d."__JK" AND jx_o."__TS" >= greatest(0, jx_d."__TS" - {before}) '
                f'AND jx_o."__TS" <= greatest(0, jx_d."__TS" + {after}) AND jx_o."__TS" > {min_live}')

    def _matches(self, side: str, min_live: int) -> str:
        other = "R" if side == "L" else "L"
        cols = layout(side == "L", self.sides[side].refs("jx_d"), self.sides[other].refs("jx_o"))
        return (f'SELECT {cols}, jx_d."__JK", greatest(jx_d."__TS", jx_o."__TS") AS "__TS", false AS "__DEL", jx_d."__P", '
                f'jx_d."__O", jx_d."__SEQ" AS "__S1", 1 AS "__S2", jx_o."__TS" AS "__S3", 0 AS "__S4", '
                f'jx_o."__ORD" AS "__S5" FROM __jdelta jx_d JOIN {self.tables[other]} jx_o ON {self._match_cond(side, min_live)} '
                f'WHERE {_VALID}')

    def _unmatched_where(self, side: str, min_live: int) -> str:
        other = "R" if side == "L" else "L"
        return (f"{_VALID} AND NOT EXISTS (SELECT 1 FROM {self.tables[other]} jx_o "
                f"WHERE {self._match_cond(side, min_live)})")

    def _padded(self, side: str) -> str:
        other = "R" if side == "L" else "L"
        return layout(side == "L", self.sides[side].refs("jx_d"), self.sides[other].nulls())

    def _legacy_sql(self, side: str, min_live: int) -> str:
        parts = [self._matches(side, min_live)]
        if self.outer[side]:
            parts.append(f'SELECT {self._padded(side)}, jx_d."__JK", jx_d."__TS", false, jx_d."__P", jx_d."__O", jx_d."__SEQ", '
                         f'1, 0, 0, 0 FROM __jdelta jx_d WHERE {self._unmatched_where(side, min_live)}')
        return f"SELECT * FROM ({' UNION ALL '.join(parts)}) ORDER BY \"__S1\", \"__S2\", \"__S3\", \"__S5\""

    # -- buffers ------------------------------------------------------------------------------

    def _buffer(self, cur: duckdb.DuckDBPyConnection, side: str, delta: pa.Table) -> None:
        valid = delta.filter(pc.and_(pc.invert(delta.column("__DEL")), pc.is_valid(delta.column("__JK"))))
        shared = pc.max(delta.column("__TS")).as_py()
        if shared is not None:
            self.meta.values[self._key("st")] = max(self.meta.get(self._key("st")), shared)
        if valid.num_rows == 0:
            return
        st_key, ord_key = self._key(f"st_{side}"), self._key("ord")
        prior, base = self.meta.get(st_key), self.meta.get(ord_key, 0)
        cols = ", ".join(q(n) for n in self.sides[side].names)
        cur.execute(
            f'INSERT INTO {self.tables[side]} SELECT {cols}, "__JK", "__TS", {base} + "__SEQ", "__P", "__O" FROM '
            f'(SELECT *, greatest({prior}, max("__TS") OVER (ORDER BY "__SEQ" ROWS BETWEEN UNBOUNDED PRECEDING '
            f'AND CURRENT ROW)) AS "__ST" FROM __jdelta jx_d WHERE NOT "__DEL" AND "__JK" IS NOT NULL) '
            f'WHERE "__TS" > "__ST" - {self.retention}')
        latest = max(prior, int(pc.max(valid.column("__TS")).as_py()))
        self.meta.values[st_key] = latest
        self.meta.values[ord_key] = base + delta.num_rows
        cur.execute(f'DELETE FROM {self.tables[side]} WHERE "__TS" <= {latest - self.retention}')

    # -- outer joins with a grace period ----------------------------------------------------

    def _outer_step(self, cur: duckdb.DuckDBPyConnection, side: str, min_live: int) -> pa.Table:
        _, after = self._window(side)
        prior_st = self.meta.get(self._key("st"))
        base = self.meta.get(self._key("ord"), 0)
        this_side, other_side = (1, 0) if side == "L" else (0, 1)
        left, right = self.sides["L"], self.sides["R"]
        x_cols = ", ".join(q(n) for n in left.names + right.names)
        cur.execute(
            f'CREATE OR REPLACE TEMP TABLE "__jd" AS SELECT *, "__TS" >= coalesce(lag("__ST") OVER (ORDER BY "__SEQ"), '
            f'{prior_st}) AS "__TRIG" FROM (SELECT jx_d.*, greatest({prior_st}, max("__TS") OVER (ORDER BY "__SEQ" '
            f'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS "__ST" FROM __jdelta jx_d)')
        cur.execute(f'CREATE OR REPLACE TEMP TABLE "__jm" AS {self._matches(side, min_live).replace("FROM __jdelta jx_d ", "FROM __jd jx_d ")}')
        new_entries = ""
        if self.outer[side]:
            new_entries = (f' UNION ALL SELECT {self._padded(side)}, {this_side}, jx_d."__JK", jx_d."__TS", '
                           f'{base} + jx_d."__SEQ", jx_d."__P", jx_d."__O", jx_d."__SEQ" FROM __jd jx_d '
                           f'WHERE {self._unmatched_where(side, min_live)} AND greatest(0, jx_d."__TS" + {after}) >= jx_d."__ST"')
        cur.execute(
            f'CREATE OR REPLACE TEMP TABLE "__je" AS WITH '
            f'trig AS (SELECT "__SEQ" AS j, "__ST" AS st FROM __jd jx_d WHERE {_VALID} AND "__TRIG"), '
            f'trig_st AS (SELECT min(j) AS j, st FROM trig GROUP BY st), '
            f'dels AS (SELECT "__JK" AS jk, "__S3" AS ts, min("__S1") AS del FROM __jm GROUP BY ALL), '
            f'e0 AS (SELECT {x_cols}, "__SIDE", "__JK", "__TS", "__ORD", "__P", "__O", -1 AS "__ADD" '
            f'FROM {self.tables["X"]}{new_entries}), '
            f'e1 AS (SELECT e0.*, jx_a.j AS "__J1" FROM e0 ASOF LEFT JOIN trig jx_a ON jx_a.j > e0."__ADD"), '
            f'e2 AS (SELECT e1.*, jx_b.j AS "__J2" FROM e1 ASOF LEFT JOIN trig_st jx_b '
            f'ON jx_b.st > e1."__TS" + {after} + {self.grace}) '
            f'SELECT e2.*, CASE WHEN "__J1" IS NULL OR "__J2" IS NULL THEN NULL ELSE greatest("__J1", "__J2") END '
            f'AS "__EMIT", jx_dl.del AS "__DELAT" FROM e2 LEFT JOIN dels jx_dl '
            f'ON e2."__SIDE" = {other_side} AND jx_dl.jk = e2."__JK" AND jx_dl.ts = e2."__TS"')
        emitted = '"__EMIT" IS NOT NULL AND ("__DELAT" IS NULL OR "__EMIT" <= "__DELAT")'
        parts = ['SELECT * FROM __jm',
                 f'SELECT {x_cols}, "__JK", "__TS", false, "__P", "__O", "__EMIT", 0, "__TS", "__SIDE", "__ORD" '
                 f'FROM __je WHERE {emitted}']
        if self.outer[side]:
            parts.append(f'SELECT {self._padded(side)}, jx_d."__JK", jx_d."__TS", false, jx_d."__P", jx_d."__O", jx_d."__SEQ", 1, '
                         f'0, 0, 0 FROM __jd jx_d WHERE {self._unmatched_where(side, min_live)} '
                         f'AND greatest(0, jx_d."__TS" + {after}) < jx_d."__ST"')
        out = run(cur, f'SELECT * FROM ({" UNION ALL ".join(parts)}) '
                       f'ORDER BY "__S1", "__S2", "__S3", "__S4", "__JK", "__S5"')
        cur.execute(f'DELETE FROM {self.tables["X"]} WHERE "__ORD" IN (SELECT "__ORD" FROM __je WHERE "__ADD" = -1 '
                    f'AND (({emitted}) OR "__DELAT" IS NOT NULL))')
        cur.execute(f'INSERT INTO {self.tables["X"]} SELECT {x_cols}, "__SIDE", "__JK", "__TS", "__ORD", "__P", '
                    f'"__O" FROM __je WHERE "__ADD" >= 0 AND NOT ({emitted})')
        return out
