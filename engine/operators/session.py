"""Session windows: merging sessions per key, as Kafka Streams' session aggregation does.

A record at time t joins every live session of its key within the inactivity gap
(``end >= t - gap`` and ``start <= t + gap``); they merge into one session. Each merged-away
session is tombstoned (timestamp: its end) before the new session is emitted (timestamp: its
end). A record is late, and a session expired, when its end is before stream time minus grace
minus gap.

Merging is sequential per key, so a batch is processed in waves: wave i holds the i-th record
of every key, so within a wave keys are independent and one SQL statement handles them all.
The number of waves is the largest count of records of one key in the batch.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from engine.expressions.scope import quote_ident as q
from engine.operators.aggregate_sql import AggregateSql


class SessionStep:
    """Runs one batch of session-window aggregation against the state table."""

    def __init__(self, sql: AggregateSql, cursor: duckdb.DuckDBPyConnection) -> None:
        self.sql = sql
        self.cursor = cursor
        plan = sql.plan
        assert plan.window is not None
        self.gap = plan.window.size_ms
        self.grace = plan.grace_ms
        self.keys = sql.keys

    def _match(self, left: str, right: str) -> str:
        return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in self.keys)

    def _candidates(self) -> str:
        return (f"SELECT w.\"__SEQ\" AS \"__WSEQ\", s.* FROM wave w JOIN {self.sql.state_table} s ON "
                f"{self._match('w', 's')} AND s.\"__WE\" >= w.\"__TS\" - {self.gap} "
                f"AND s.\"__WS\" <= w.\"__TS\" + {self.gap} AND s.\"__WE\" >= w.\"__ST\" - {self.grace} - {self.gap}")

    def _wave_sql(self) -> str:
        impls = self.sql.impls
        merged = [f"{m} AS {q(f'__P{c}_{n}')}" for c, impl in enumerate(impls)
                  for m, (n, _) in zip(impl.merge([q(f"__S{c}_{n}") for n, _ in impl.state]), impl.state, strict=True)]
        running = [f"{r} OVER (PARTITION BY \"__SEQ\") AS {q(f'__R{c}_{n}')}" for c, impl in enumerate(impls)
                   for r, (n, _) in zip(impl.running(self.sql.event_args[c]), impl.state, strict=True)]
        combined = []
        for c, impl in enumerate(impls):
            names = [n for n, _ in impl.state]
            sql = impl.combine([q(f"__P{c}_{n}") for n in names], [q(f"__R{c}_{n}") for n in names])
            combined += [f"{s} AS {q(f'__S{c}_{n}')}" for s, n in zip(sql, names, strict=True)]
        results = [f"{impl.result([q(f'__S{c}_{n}') for n, _ in impl.state])} AS {q(f'__AGG{c}')}"
                   for c, impl in enumerate(impls)]
        values = [f"{c.sql} AS {q(name)}" for name, c in self.sql.plan.values]
        having = f"coalesce(({self.sql.plan.having.sql}), false)" if self.sql.plan.having is not None else "true"
        return (
            f"WITH cand AS ({self._candidates()}), "
            f"m AS (SELECT \"__WSEQ\", min(\"__WS\") AS \"__MWS\", max(\"__WE\") AS \"__MWE\", "
            f"{', '.join(merged)} FROM cand GROUP BY \"__WSEQ\"), "
            f"r AS (SELECT wave.*, {', '.join(running)} FROM wave), "
            f"n AS (SELECT r.*, m.* EXCLUDE (\"__WSEQ\"), least(\"__TS\", coalesce(\"__MWS\", \"__TS\")) AS \"__WS\", "
            f"greatest(\"__TS\", coalesce(\"__MWE\", \"__TS\")) AS \"__WE\" FROM r LEFT JOIN m ON m.\"__WSEQ\" = r.\"__SEQ\"), "
            f"c AS (SELECT n.*, {', '.join(combined)} FROM n WHERE \"__WE\" >= \"__ST\" - {self.grace} - {self.gap}), "
            f"f AS (SELECT c.*, {', '.join(results)} FROM c) "
            f"SELECT f.*, {', '.join(values)}, {having} AS \"__PASS\", false AS \"__PREVPASS\", "
            f"\"__WE\" AS \"__OUTTS\" FROM f")

    def _tombstones(self) -> str:
        """Merged-away sessions of the wave's accepted records, as rows to delete and tombstone."""
        keys = ", ".join(q(k) for k in self.keys)
        return (f"SELECT cand.\"__WSEQ\" AS \"__SEQ\", {', '.join('cand.' + q(k) for k in self.keys)}, "
                f"cand.\"__WS\", cand.\"__WE\", cand.\"__ROWTIME\" AS \"__OUTTS\", false AS \"__PASS\", "
                f"true AS \"__PREVPASS\" FROM ({self._candidates()}) cand "
                f"WHERE cand.\"__WSEQ\" IN (SELECT \"__SEQ\" FROM accepted) ORDER BY cand.\"__WSEQ\", cand.\"__WS\", {keys}")

    def run(self, events: pa.Table) -> pa.Table:
        """Process the batch's events wave by wave; returns the rows to emit, in order."""
        if events.num_rows == 0:
            return pa.table({})
        waves = events.column("__WAVE")
        outputs: list[pa.Table] = []
        for wave in range(int(pc.max(waves).as_py()) + 1):
            rows = events.filter(pc.equal(waves, wave))
            outputs.append(self._run_wave(rows))
        tables = [t for t in outputs if t.num_rows]
        if not tables:
            return pa.table({})
        merged = pa.concat_tables(tables, promote_options="default")
        order = pc.sort_indices(merged, sort_keys=[("__SEQ", "ascending"), ("__ORDER", "ascending")])
        return merged.take(order)

    def _run_wave(self, rows: pa.Table) -> pa.Table:
        cur = self.cursor
        cur.register("wave", rows)
        try:
            new = cur.sql(self._wave_sql()).to_arrow_table()
            cur.register("accepted", new)
            try:
                dead = cur.sql(self._tombstones()).to_arrow_table()
            finally:
                cur.unregister("accepted")
        finally:
            cur.unregister("wave")
        self._apply(dead, new)
        dead = dead.append_column("__ORDER", pa.array(range(dead.num_rows), pa.int64()))
        new = new.append_column("__ORDER", pa.array([dead.num_rows + 1] * new.num_rows, pa.int64()))
        return pa.concat_tables([dead, new], promote_options="default")

    def _apply(self, dead: pa.Table, new: pa.Table) -> None:
        cur = self.cursor
        state = self.sql.state_table
        if dead.num_rows:
            cur.register("dead", dead)
            try:
                cur.execute(f"DELETE FROM {state} USING dead WHERE {self._match(state, 'dead')} "
                            f"AND {state}.\"__WS\" = dead.\"__WS\"")
            finally:
                cur.unregister("dead")
        if new.num_rows:
            cur.register("res", new)
            try:
                cur.execute(f"INSERT INTO {state} BY NAME {self.sql.state_update()}")
            finally:
                cur.unregister("res")
