"""Session windows: merging sessions per key, as Kafka Streams' session aggregation does.

A record at time t joins every live session of its key within the inactivity gap
(``end >= t - gap`` and ``start <= t + gap``); they merge into one session. Each merged-away
session is tombstoned (timestamp: its end) before the new session is emitted (timestamp: its
end). A record is late, and a session expired, when its end is before stream time minus grace
minus gap.

Most keys receive their records in timestamp order, after their latest session: then a record
either extends the session before it or starts a new one (a gap larger than the inactivity gap),
which is a vectorised gaps-and-islands computation over the whole batch (``_in_order_sql``).
Keys with out-of-order records need real merging, which is sequential per key: they run in
waves — wave i holds the i-th record of every such key, so within a wave keys are independent
and one SQL statement handles them all.
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
        merged = [f"CAST({m} AS {ty}) AS {q(f'__P{c}_{n}')}" for c, impl in enumerate(impls)
                  for m, (n, ty) in zip(impl.merge([q(f"__S{c}_{n}") for n, _ in impl.state]), impl.state, strict=True)]
        running = self.sql.running_exprs('(PARTITION BY "__SEQ")')
        combined, results, values = self.sql.combined_exprs(), self.sql.result_exprs(), self.sql.output_exprs()
        return (
            f"WITH cand AS ({self._candidates()}), "
            f"m AS (SELECT \"__WSEQ\", min(\"__WS\") AS \"__MWS\", max(\"__WE\") AS \"__MWE\", "
            f"{', '.join(merged)} FROM cand GROUP BY \"__WSEQ\"), "
            f"r AS (SELECT wave.*, {', '.join(running)} FROM wave), "
            f"n AS (SELECT r.*, m.* EXCLUDE (\"__WSEQ\"), least(\"__TS\", coalesce(\"__MWS\", \"__TS\")) AS \"__WS\", "
            f"greatest(\"__TS\", coalesce(\"__MWE\", \"__TS\")) AS \"__WE\" FROM r LEFT JOIN m ON m.\"__WSEQ\" = r.\"__SEQ\"), "
            f"c AS (SELECT n.*, {', '.join(combined)} FROM n WHERE \"__WE\" >= \"__ST\" - {self.grace} - {self.gap}), "
            f"f AS (SELECT c.*, {', '.join(results)} FROM c) "
            f"SELECT f.*, {', '.join(values)}, false AS \"__PREVPASS\", \"__WE\" AS \"__OUTTS\" FROM f")

    def _tombstones(self) -> str:
        """Merged-away sessions of the wave's accepted records, as rows to delete and tombstone."""
        keys = ", ".join(q(k) for k in self.keys)
        return (f"SELECT cand.\"__WSEQ\" AS \"__SEQ\", {', '.join('cand.' + q(k) for k in self.keys)}, "
                f"cand.\"__WS\", cand.\"__WE\", cand.\"__ROWTIME\" AS \"__OUTTS\", false AS \"__PASS\", "
                f"true AS \"__PREVPASS\" FROM ({self._candidates()}) cand "
                f"WHERE cand.\"__WSEQ\" IN (SELECT \"__SEQ\" FROM accepted) ORDER BY cand.\"__WSEQ\", cand.\"__WS\", {keys}")

    def run(self, events: pa.Table) -> pa.Table:
        """Process the batch's events; returns the rows to emit, in order."""
        if events.num_rows == 0:
            return pa.table({})
        fast = self._in_order_keys(events)
        outputs: list[pa.Table] = [self._run_in_order(events.filter(fast))]
        rest = events.filter(pc.invert(fast))
        if rest.num_rows:
            waves = rest.column("__WAVE")
            for wave in range(int(pc.max(waves).as_py()) + 1):
                outputs.append(self._run_wave(rest.filter(pc.equal(waves, wave))))
        tables = [t for t in outputs if t.num_rows]
        if not tables:
            return pa.table({})
        merged = pa.concat_tables(tables, promote_options="default")
        order = pc.sort_indices(merged, sort_keys=[("__SEQ", "ascending"), ("__ORDER", "ascending")])
        return merged.take(order)

    def _latest(self) -> str:
        keys = ", ".join(q(k) for k in self.keys)
        return (f"SELECT s.* FROM {self.sql.state_table} s JOIN (SELECT {keys}, max(\"__WE\") AS \"__MWE\" "
                f"FROM {self.sql.state_table} GROUP BY {keys}) m ON {self._match('s', 'm')} AND s.\"__WE\" = m.\"__MWE\"")

    def _in_order_keys(self, events: pa.Table) -> pa.Array:
        """Per event: does its key only append in time order after its latest session?"""
        keys = ", ".join(q(k) for k in self.keys)
        sql = (f"WITH e AS (SELECT \"__SEQ\", {keys}, \"__TS\", lag(\"__TS\") OVER (PARTITION BY {keys} "
               f"ORDER BY \"__SEQ\") AS p, row_number() OVER (PARTITION BY {keys} ORDER BY \"__SEQ\") AS rn FROM ev), "
               f"k AS (SELECT {keys}, bool_and(p IS NULL OR \"__TS\" >= p) AS mono, "
               f"min(CASE WHEN rn = 1 THEN \"__TS\" END) AS first_ts FROM e GROUP BY {keys}), "
               f"l AS (SELECT {keys}, max(\"__WE\") AS mwe FROM {self.sql.state_table} GROUP BY {keys}) "
               f"SELECT coalesce(k.mono AND (l.mwe IS NULL OR k.first_ts >= l.mwe), false) AS fast "
               f"FROM ev LEFT JOIN k ON {self._match('ev', 'k')} LEFT JOIN l ON {self._match('ev', 'l')} ORDER BY ev.\"__SEQ\"")
        self.cursor.register("ev", events.select(["__SEQ", "__TS"] + self.keys))
        try:
            return self.cursor.sql(sql).to_arrow_table().column("fast").combine_chunks()
        finally:
            self.cursor.unregister("ev")

    def _in_order_sql(self) -> str:
        """In-order keys: a record extends its session unless the gap since the previous one is
        larger than the inactivity gap; each extension tombstones the session's previous extent."""
        keys = ", ".join(q(k) for k in self.keys)
        running = self.sql.running_exprs("w")
        prior = [f"CASE WHEN \"__SID\" = 0 THEN l.{q(f'__S{c}_{n}')} END AS {q(f'__P{c}_{n}')}"
                 for c, impl in enumerate(self.sql.impls) for n, _ in impl.state]
        combined, results, values = self.sql.combined_exprs(), self.sql.result_exprs(), self.sql.output_exprs()
        late = f"\"__TS\" >= \"__ST\" - {self.grace} - {self.gap}"
        return (
            f"WITH latest AS ({self._latest()}), "
            f"e1 AS (SELECT *, lag(\"__TS\") OVER (PARTITION BY {keys} ORDER BY \"__SEQ\") AS \"__PREVTS\" "
            f"FROM fast WHERE {late}), "
            # The key's latest session can only be extended while it has not expired.
            f"e2 AS (SELECT e1.*, l.\"__WS\" AS \"__LWS\", l.\"__WE\" AS \"__LWE\", CASE WHEN \"__PREVTS\" IS NULL "
            f"THEN (l.\"__WE\" IS NULL OR l.\"__WE\" < \"__ST\" - {self.grace} - {self.gap} "
            f"OR \"__TS\" - l.\"__WE\" > {self.gap}) ELSE (\"__TS\" - \"__PREVTS\" > {self.gap} "
            f"OR \"__PREVTS\" < \"__ST\" - {self.grace} - {self.gap}) END "
            f"AS \"__BRK\" FROM e1 LEFT JOIN latest l ON {self._match('e1', 'l')}), "
            f"e3 AS (SELECT *, sum(CASE WHEN \"__BRK\" THEN 1 ELSE 0 END) OVER (PARTITION BY {keys} ORDER BY \"__SEQ\" "
            f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS \"__SID\" FROM e2), "
            f"e4 AS (SELECT *, CASE WHEN \"__SID\" = 0 THEN \"__LWS\" ELSE first_value(\"__TS\") OVER (PARTITION BY "
            f"{keys}, \"__SID\" ORDER BY \"__SEQ\") END AS \"__WS\", \"__TS\" AS \"__WE\", CASE WHEN \"__BRK\" THEN NULL "
            f"WHEN \"__PREVTS\" IS NULL THEN \"__LWE\" ELSE \"__PREVTS\" END AS \"__OLDWE\" FROM e3), "
            f"r AS (SELECT e4.*, {', '.join(running)} FROM e4 WINDOW w AS (PARTITION BY {keys}, \"__SID\" "
            f"ORDER BY \"__SEQ\" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)), "
            f"j AS (SELECT r.*, {', '.join(prior)} FROM r LEFT JOIN latest l ON {self._match('r', 'l')}), "
            f"c AS (SELECT j.*, {', '.join(combined)} FROM j), "
            f"f AS (SELECT c.*, {', '.join(results)} FROM c) "
            f"SELECT f.*, {', '.join(values)}, false AS \"__PREVPASS\", \"__WE\" AS \"__OUTTS\" FROM f "
            f"ORDER BY \"__SEQ\"")

    def _run_in_order(self, rows: pa.Table) -> pa.Table:
        if rows.num_rows == 0:
            return pa.table({})
        cur = self.cursor
        cur.register("fast", rows)
        try:
            new = cur.sql(self._in_order_sql()).to_arrow_table()
        finally:
            cur.unregister("fast")
        if new.num_rows == 0:
            return new
        extended = new.filter(pc.invert(new.column("__BRK")))
        dead = pa.table({**{k: extended.column(k) for k in self.keys}, "__SEQ": extended.column("__SEQ"),
                         "__WS": extended.column("__WS"), "__WE": extended.column("__OLDWE"),
                         "__OUTTS": extended.column("__OLDWE"),
                         "__PASS": pa.array([False] * extended.num_rows), "__PREVPASS": pa.array([True] * extended.num_rows)})
        # Replace each session's stored extent by its final one: the merged-into latest session
        # (same start) and every session this batch created.
        last = new.filter(self._last_per_session(new))
        self._apply(dead.filter(pc.equal(extended.column("__SID"), 0)) if extended.num_rows else dead, last)
        dead = dead.append_column("__ORDER", pa.array([0] * dead.num_rows, pa.int64()))
        new = new.append_column("__ORDER", pa.array([1] * new.num_rows, pa.int64()))
        return pa.concat_tables([dead, new], promote_options="default")

    def _last_per_session(self, new: pa.Table) -> pa.Array:
        keys = ", ".join(q(k) for k in self.keys)
        self.cursor.register("nw", new.select(["__SEQ", "__SID"] + self.keys))
        try:
            return self.cursor.sql(
                f"SELECT row_number() OVER (PARTITION BY {keys}, \"__SID\" ORDER BY \"__SEQ\" DESC) = 1 AS last "
                f"FROM nw ORDER BY \"__SEQ\"").to_arrow_table().column("last").combine_chunks()
        finally:
            self.cursor.unregister("nw")

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
