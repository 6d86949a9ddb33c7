"""The aggregate operator: GROUP BY over a stream or table, windowed or not, state in DuckDB.

Commit order (why restarts neither lose nor double-count):
1. ``__call__`` opens a DuckDB transaction, runs the step statement, writes the new state rows
   (and a table source's last rows) and returns the changes to produce;
2. the runtime produces them to the sink topic;
3. ``commit`` saves the source offsets and stream time in the same transaction and commits it.
A crash before 3 rolls state and offsets back together; the batch is processed again from the
same state, so the table converges (its changelog may repeat the batch's updates).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine import types as t
from engine.catalog import Source
from engine.expressions.scope import quote_ident as q
from engine.operators import running
from engine.operators.aggregate_sql import AggregateSql
from engine.operators.codec import SinkEncoder, SourceDecoder
from engine.operators.session import SessionStep
from engine.operators.window_events import WindowEvents
from engine.planner.aggregate import AggregatePlan
from engine.state import store

if TYPE_CHECKING:
    from engine.engine import Engine
    from engine.runtime.push import PushQuery


def state_table_name(query_id: str) -> str:
    """The DuckDB table holding a query's aggregate state."""
    return f"__state_{query_id}"


class AggregateProcessor:
    """Folds batches into aggregate state and emits one change per input event."""

    def __init__(self, engine: Engine, query_id: str, plan: AggregatePlan, sink: Source | None,
                 push: PushQuery | None = None, view: str | None = None,
                 cursor: duckdb.DuckDBPyConnection | None = None) -> None:
        self._engine = engine
        self._query_id = query_id
        self._plan = plan
        self._state = q(state_table_name(query_id))
        self._source_state = q(f"__tsrc_{query_id}")
        self.sql = AggregateSql(plan, self._state, self._source_state)
        self._fast_runs = self.sql.fast_runs()
        self._fast_events = WindowEvents.for_plan(plan, self.sql.keys) if self._fast_runs is not None else None
        # A join upstream passes its cursor so its state commits in this transaction.
        self._cursor = cursor if cursor is not None else engine.db.cursor()
        self._decoder = SourceDecoder(plan.source)
        self._encoder = SinkEncoder(sink) if sink is not None else None
        self._push = push
        self._in_tx = False
        self._create_tables(view)
        self.stream_times = store.load_stream_time(self._cursor, query_id)

    def _create_tables(self, view: str | None) -> None:
        store.ensure_tables(self._cursor)
        cols = ", ".join(f"{q(n)} {ty}" for n, ty in self.sql.state_schema())
        self._cursor.execute(f"CREATE TABLE IF NOT EXISTS {self._state} ({cols})")
        if self._plan.source.kind == "TABLE":
            src = ", ".join(f"{q(n)} {ty}" for n, ty in self.sql.source_state_schema())
            self._cursor.execute(f"CREATE TABLE IF NOT EXISTS {self._source_state} ({src})")
        if view is not None:
            self._cursor.execute(self.sql.view(view))

    def initial_positions(self, topic: str) -> dict[int, int]:
        """Offsets saved with the state (empty on first start)."""
        return store.load_offsets(self._cursor, self._query_id, topic)

    def __call__(self, index: int, raw: pa.RecordBatch) -> list[pa.RecordBatch]:
        decoded, errors = self._decoder.decode(raw)
        self._engine.processing_log.write(self._query_id, errors)
        if decoded.num_rows == 0:
            return []
        return self.process(decoded)

    def begin(self) -> None:
        """Open the state transaction unless one is open (a join upstream opens it first)."""
        if not self._in_tx:
            self._cursor.execute("BEGIN TRANSACTION")
            self._in_tx = True

    def process(self, decoded: pa.Table) -> list[pa.RecordBatch]:
        """Fold a decoded batch of the plan's source into the state; the changes to produce."""
        batch = decoded.append_column("__SEQ", pa.array(np.arange(decoded.num_rows, dtype=np.int64)))
        cur = self._cursor
        self.begin()
        cur.register("batch", batch)
        try:
            if self._plan.window is not None and self._plan.window.kind == "SESSION":
                events = cur.sql(self.sql.session_events(self.stream_times)).to_arrow_table()
                res = SessionStep(self.sql, cur).run(events)
            else:
                res, fast = self._step(batch)
                events = res
                self._apply_state(res, fast)
        except BaseException:
            self.rollback()  # an aborted transaction refuses every later statement
            raise
        finally:
            cur.unregister("batch")
        self._advance_stream_time(events)
        return self._emit(res)

    def _step(self, batch: pa.Table) -> tuple[pa.Table, bool]:
        """The step's changes, and whether the numpy running states (``running``) made them."""
        cur = self._cursor
        if self._fast_runs is not None:
            events = self._fast_events(batch) if self._fast_events is not None else None
            if events is None:
                events = cur.sql(self.sql.fast_events()).to_arrow_table()
            try:
                ready = running.prepare(events, self.sql.group, self._fast_runs, self.stream_times,
                                        self._plan.grace_ms, self._plan.window is not None)
            except pa.ArrowInvalid:  # e.g. an INTEGER sum past int32: the SQL reports it
                ready = None
            if ready is not None:
                cur.register("__groups", running.groups(ready, self.sql.group))
                try:
                    prior = cur.sql(self.sql.prior_of_groups("__groups")).to_arrow_table()
                finally:
                    cur.unregister("__groups")
                ready = running.with_prior(ready, prior)
                cur.register("prepared", ready)
                try:
                    computed = cur.sql(self.sql.fold_prepared("prepared")).to_arrow_table()
                finally:
                    cur.unregister("prepared")
                return running.attach(ready, computed), True
        return cur.sql(self.sql.step(self.stream_times)).to_arrow_table(), False

    def _apply_state(self, res: pa.Table, fast: bool = False) -> None:
        cur = self._cursor
        if self._plan.source.kind == "TABLE":
            rows = cur.sql(self.sql.source_state_update()).to_arrow_table()
            self._upsert(self._source_state, rows, [n for n, _ in self.sql.source_state_schema() if n.startswith("__SK_")])
        if res.num_rows == 0:
            return
        if fast:
            last = running.last_rows(res, [n for n, _ in self.sql.state_schema()])
        else:
            cur.register("res", res)
            try:
                last = cur.sql(self.sql.state_update()).to_arrow_table()
            finally:
                cur.unregister("res")
        self._upsert(self._state, last, self.sql.group)

    def _upsert(self, table: str, rows: pa.Table, keys: list[str]) -> None:
        # DELETE + INSERT: DuckDB's MERGE INTO measured ~20x slower here (in the state transaction).
        if rows.num_rows == 0:
            return
        cur = self._cursor
        cur.register("upd", rows)
        try:
            match = " AND ".join(f"{table}.{q(k)} = upd.{q(k)}" for k in keys)
            cur.execute(f"DELETE FROM {table} USING upd WHERE {match}")
            cur.execute(f"INSERT INTO {table} BY NAME SELECT * FROM upd")
        finally:
            cur.unregister("upd")

    def _advance_stream_time(self, res: pa.Table) -> None:
        if self._plan.window is None or res.num_rows == 0 or "__P" not in res.column_names:
            return
        if res.column("__TS").null_count:
            res = res.filter(pc.is_valid(res.column("__TS")))
            if res.num_rows == 0:
                return
        parts = res.column("__P").to_numpy()
        stamps = res.column("__TS").to_numpy()
        lo, hi = int(parts.min()), int(parts.max())
        # Usually one partition per batch; an Arrow group-by cost more than the step's numpy.
        for part in [lo] if lo == hi else np.unique(parts).tolist():
            ts = int(stamps.max() if lo == hi else stamps[parts == part].max())
            self.stream_times[part] = max(self.stream_times.get(part, ts), ts)

    def _emit(self, res: pa.Table) -> list[pa.RecordBatch]:
        if self._plan.emit_final:
            res = self._closed_windows()
        else:
            shown = pc.or_(res.column("__PASS"), res.column("__PREVPASS"))
            if not pc.all(shown).as_py():  # without HAVING every row passes: no copy
                res = res.filter(shown)
            if "__HIDE" in res.column_names and pc.any(res.column("__HIDE")).as_py():  # only table sources hide
                res = res.filter(pc.invert(pc.fill_null(res.column("__HIDE"), False)))
        if res.num_rows == 0:
            return []
        names = {f"__K{i}": name for i, (name, _) in enumerate(self._plan.keys)}
        out = res.rename_columns([names.get(n, n) for n in res.column_names])
        if self._push is not None:
            for bound, internal in (("WINDOWSTART", "__WS"), ("WINDOWEND", "__WE")):
                if self._plan.window is not None and bound not in out.column_names:
                    out = out.append_column(bound, out.column(internal))
            self._push.offer(out.filter(out.column("__PASS")).select([n for n, _ in self._push.columns]))
            return []
        if self._encoder is None:
            return []
        window = None
        if self._plan.window is not None:
            window = (out.column("__WS"), out.column("__WE"), self._plan.window.kind)
        null_values = pc.invert(out.column("__PASS")).combine_chunks()
        return [self._encoder.encode(out, out.column("__OUTTS"), null_values, window=window)]

    def _closed_windows(self) -> pa.Table:
        """EMIT FINAL: windows whose end plus grace passed stream time, once each."""
        if not self.stream_times:
            return pa.table({})
        close = max(self.stream_times.values()) - self._plan.grace_ms
        cond = f"NOT \"__EMITTED\" AND \"__PASS\" AND \"__WE\" <= {close}"
        cols = [f"{q(n)}" for n, _ in self.sql.state_schema() if n not in ("__ROWTIME", "__EMITTED")]
        rows = self._cursor.sql(
            f"SELECT {', '.join(cols)}, \"__ROWTIME\" AS \"__OUTTS\", false AS \"__PREVPASS\" FROM {self._state} "
            f"WHERE {cond} ORDER BY \"__WE\", \"__WS\"").to_arrow_table()
        self._cursor.execute(f"UPDATE {self._state} SET \"__EMITTED\" = true WHERE {cond}")
        return rows

    def commit(self, topic: str, positions: list[int]) -> None:
        """Save offsets and stream time with the state, and commit the transaction."""
        cur = self._cursor
        if not self._in_tx:
            cur.execute("BEGIN TRANSACTION")
        store.save_offsets(cur, self._query_id, topic, positions)
        store.save_stream_time(cur, self._query_id, self.stream_times)
        cur.execute("COMMIT")
        self._in_tx = False

    def rollback(self) -> None:
        """Abandon the open transaction (the batch failed before it was produced)."""
        if self._in_tx:
            self._cursor.execute("ROLLBACK")
            self._in_tx = False
            self.stream_times = store.load_stream_time(self._cursor, self._query_id)

    def drop_state(self) -> None:
        """Remove the query's state tables and bookkeeping (TERMINATE / DROP)."""
        self._cursor.execute(f"DROP TABLE IF EXISTS {self._state}")
        self._cursor.execute(f"DROP TABLE IF EXISTS {self._source_state}")
        store.drop_query_state(self._cursor, self._query_id)


def result_types(plan: AggregatePlan) -> dict[str, pa.DataType]:
    """Arrow types of the output columns."""
    return {c.name: t.to_arrow(c.type) for c in plan.key_columns + plan.value_columns}
