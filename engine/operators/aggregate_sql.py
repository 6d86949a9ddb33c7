"""The SQL of one aggregation step, built once per query from its plan.

Per batch, one statement turns the decoded input (``batch``, with a ``__SEQ`` column in offset
order) into one row per emitted change, in emission order:

1. events: GROUP BY keys ``__K<i>`` and aggregate arguments ``__A<c>_<j>`` per record (a table
   source contributes a retraction of the row's previous value, ``__SIGN`` -1, before it);
2. windows: WINDOWSTART/WINDOWEND per event (hopping windows: one event per window), and records
   later than stream time minus grace are dropped;
3. running partial states per group ``OVER w`` in offset order, combined with the stored state;
4. aggregate results ``__AGG<c>``, the output value columns and the HAVING flag ``__PASS``, with
   ``__PREVPASS`` (did the group pass before this event) so a failing HAVING emits a tombstone
   only where a row existed.
"""

from __future__ import annotations

import dataclasses

import pyarrow as pa

from engine import types as t
from engine.catalog import Source
from engine.expressions.scope import quote_ident as q
from engine.operators.aggregates import AggImpl, implement
from engine.operators.codec import NULL_VALUE
from engine.operators.running import Running
from engine.planner.aggregate import AggregatePlan

MIN_TIME = -(2**63)
_FAST_KINDS = {"COUNT": "count", "SUM": "sum", "MIN": "min", "MAX": "max"}


class AggregateSql:
    """SQL text for an aggregate plan (see the module docstring)."""

    def __init__(self, plan: AggregatePlan, state_table: str, source_state: str) -> None:
        self.plan = plan
        self.state_table = state_table
        self.source_state = source_state
        self.windowed = plan.window is not None
        self.keys = [f"__K{i}" for i in range(len(plan.keys))]
        self.group = self.keys + (["__WS"] if self.windowed else [])
        self.impls: list[AggImpl] = []
        self.event_args: list[list[str]] = []  # each call's argument columns in the events
        for call in plan.calls:
            args = tuple(q(f"__A{call.index}_{j}") for j in range(len(call.args)))
            self.event_args.append(list(args))
            self.impls.append(implement(dataclasses.replace(call, args=args)))
        self.state_cols = [(f"__S{c}_{name}", duck) for c, impl in enumerate(self.impls) for name, duck in impl.state]

    # -- schema -------------------------------------------------------------------------------

    def state_schema(self) -> list[tuple[str, str]]:
        """Columns of the state table: group, window end, states, outputs, rowtime, HAVING flag."""
        cols = [(k, t.to_duckdb(c.type)) for k, (_, c) in zip(self.keys, self.plan.keys, strict=True)]
        if self.windowed:
            cols += [("__WS", "BIGINT"), ("__WE", "BIGINT")]
        cols += self.state_cols
        cols += [(name, t.to_duckdb(c.type) if c.type.base != "NULL" else "VARCHAR") for name, c in self.plan.values]
        return cols + [("__ROWTIME", "BIGINT"), ("__PASS", "BOOLEAN"), ("__EMITTED", "BOOLEAN")]

    def source_state_schema(self) -> list[tuple[str, str]]:
        """Columns of a table source's last rows: its key, presence, and event columns."""
        src = self.plan.source
        cols = [(f"__SK_{c.name}", t.to_duckdb(c.type)) for c in src.key_columns]
        cols += [("__PRESENT", "BOOLEAN")]
        cols += [(k, t.to_duckdb(c.type)) for k, (_, c) in zip(self.keys, self.plan.keys, strict=True)]
        cols += [(f"__A{call.index}_{j}", t.to_duckdb(at)) for call in self.plan.calls
                 for j, at in enumerate(call.arg_types)]
        return cols

    # -- events -------------------------------------------------------------------------------

    def _event_exprs(self) -> list[str]:
        cols = [f"{c.sql} AS {q(k)}" for k, (_, c) in zip(self.keys, self.plan.keys, strict=True)]
        cols += [f"{arg} AS {q(f'__A{call.index}_{j}')}" for call in self.plan.calls for j, arg in enumerate(call.args)]
        return cols

    def _where(self) -> str:
        return f"({self.plan.where.sql}) IS TRUE" if self.plan.where is not None else "true"

    def _keys_present(self, prefix: str = "") -> str:
        return " AND ".join(f"{q(prefix + k)} IS NOT NULL" for k in self.keys)

    def _stream_events(self) -> str:
        cols = self._event_exprs() + ['"ROWTIME" AS "__TS"', '"ROWPARTITION" AS "__P"', '"__SEQ"', '1 AS "__SIGN"',
                                      'false AS "__HIDE"']
        return (f"SELECT * FROM (SELECT {', '.join(cols)} FROM batch WHERE NOT {q(NULL_VALUE)} AND {self._where()}) "
                f"WHERE {self._keys_present()}")

    def _table_events(self) -> str:
        src = self.plan.source
        sk = [q(c.name) for c in src.key_columns]
        sk_names = [q(f"__SK_{c.name}") for c in src.key_columns]
        names = self.keys + [f"__A{call.index}_{j}" for call in self.plan.calls for j in range(len(call.args))]
        key_exprs = ", ".join(f"{k} AS {n}" for k, n in zip(sk, sk_names, strict=True))
        present = f"(NOT {q(NULL_VALUE)} AND {self._where()}) AS \"__PRESENT\""
        not_null = " AND ".join(f"{k} IS NOT NULL" for k in sk)
        cur = (f"SELECT \"__SEQ\", \"ROWTIME\", \"ROWPARTITION\", {key_exprs}, {present}, "
               f"{', '.join(self._event_exprs())} FROM batch WHERE {not_null}")
        lags = ", ".join(f"lag({q(n)}) OVER sk AS {q('__L' + n)}" for n in ["__PRESENT"] + names)
        prev = (f"SELECT cur.*, {lags}, row_number() OVER sk = 1 AS \"__FIRST\" FROM cur "
                f"WINDOW sk AS (PARTITION BY {', '.join(sk_names)} ORDER BY \"__SEQ\")")
        join = " AND ".join(f"s.{n} = prev.{n}" for n in sk_names)
        olds = ", ".join(f"CASE WHEN \"__FIRST\" THEN s.{q(n)} ELSE prev.{q('__L' + n)} END AS {q('__O' + n)}"
                         for n in ["__PRESENT"] + names)
        old = f"SELECT prev.*, {olds} FROM prev LEFT JOIN {self.source_state} s ON {join}"
        retract = ", ".join(f"{q('__O' + n)} AS {q(n)}" for n in names)
        add = ", ".join(q(n) for n in names)
        tail = '"ROWTIME" AS "__TS", "ROWPARTITION" AS "__P"'
        # A retraction followed by an add to the same group is one update (Kafka Streams applies
        # both before emitting): its intermediate result is hidden.
        same = " AND ".join(f"{q('__O' + k)} IS NOT DISTINCT FROM {q(k)}" for k in self.keys)
        hide = f"(\"__PRESENT\" AND {same})"
        events = (f"SELECT {retract}, {tail}, \"__SEQ\" * 2 AS \"__SEQ\", -1 AS \"__SIGN\", {hide} AS \"__HIDE\" "
                  f"FROM old WHERE \"__O__PRESENT\" IS TRUE AND {self._keys_present('__O')} "
                  f"UNION ALL SELECT {add}, {tail}, \"__SEQ\" * 2 + 1 AS \"__SEQ\", 1 AS \"__SIGN\", "
                  f"false AS \"__HIDE\" FROM old WHERE \"__PRESENT\" AND {self._keys_present()}")
        return f"WITH cur AS ({cur}), prev AS ({prev}), old AS ({old}) {events}"

    def source_state_update(self) -> str:
        """Last row per source key of a table source (reads ``batch``)."""
        src = self.plan.source
        sk_names = [q(f"__SK_{c.name}") for c in src.key_columns]
        names = [q(n) for n, _ in self.source_state_schema()]
        exprs = [f"{q(c.name)} AS {n}" for c, n in zip(src.key_columns, sk_names, strict=True)]
        exprs += [f"(NOT {q(NULL_VALUE)} AND {self._where()}) AS \"__PRESENT\""] + self._event_exprs()
        not_null = " AND ".join(f"{q(c.name)} IS NOT NULL" for c in src.key_columns)
        return (f"SELECT {', '.join(names)} FROM (SELECT {', '.join(exprs)}, \"__SEQ\" FROM batch "
                f"WHERE {not_null}) QUALIFY row_number() OVER (PARTITION BY {', '.join(sk_names)} "
                f"ORDER BY \"__SEQ\" DESC) = 1")

    def _with_windows(self, events: str) -> str:
        """Each event with its window start ``__WS`` (hopping: one row per window) and end ``__WE``."""
        w = self.plan.window
        assert w is not None
        size = w.size_ms
        if w.kind == "HOPPING":
            adv = w.advance_ms or size
            starts = f"UNNEST(range((greatest(0, \"__TS\" - {size} + {adv}) // {adv}) * {adv}, \"__TS\" + 1, {adv}))"
            ev0 = f"SELECT *, {starts} AS \"__WS\" FROM ({events})"
        else:
            ev0 = f"SELECT *, \"__TS\" - ((\"__TS\" % {size}) + {size}) % {size} AS \"__WS\" FROM ({events})"
        return f"SELECT *, \"__WS\" + {size} AS \"__WE\" FROM ({ev0})"

    def _windowed(self, events: str, stream_times: dict[int, int]) -> str:
        if self.plan.window is None:
            return events
        st = self._stream_time_sql(stream_times)
        return (f"SELECT * FROM (SELECT *, {st} AS \"__ST\" FROM ({self._with_windows(events)})) "
                f"WHERE \"__WE\" > \"__ST\" - {self.plan.grace_ms}")

    def session_events(self, stream_times: dict[int, int]) -> str:
        """Events for session windows: stream time per record and the wave of each (reads ``batch``)."""
        base = self._stream_events()
        keys = ", ".join(q(k) for k in self.keys)
        return (f"SELECT *, {self._stream_time_sql(stream_times)} AS \"__ST\", "
                f"row_number() OVER (PARTITION BY {keys} ORDER BY \"__SEQ\") - 1 AS \"__WAVE\" "
                f"FROM ({base}) ORDER BY \"__SEQ\"")

    @staticmethod
    def _stream_time_sql(stream_times: dict[int, int]) -> str:
        prior = " ".join(f"WHEN {p} THEN {st}" for p, st in stream_times.items())
        prior_sql = f"CASE \"__P\" {prior} ELSE {MIN_TIME} END" if prior else str(MIN_TIME)
        return (f"greatest({prior_sql}, max(\"__TS\") OVER (PARTITION BY \"__P\" ORDER BY \"__SEQ\" "
                f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))")

    def events(self, stream_times: dict[int, int]) -> str:
        """Events with windows, late ones dropped (reads ``batch``)."""
        base = self._table_events() if self.plan.source.kind == "TABLE" else self._stream_events()
        return self._windowed(base, stream_times)

    # -- pieces shared by the window kinds -------------------------------------------------------

    def running_exprs(self, over: str) -> list[str]:
        """Running partial states ``__R<c>_<n>`` of every call, each ``OVER {over}``."""
        return [f"{sql} OVER {over} AS {q(f'__R{c}_{n}')}" for c, impl in enumerate(self.impls)
                for sql, (n, _) in zip(impl.running(self.event_args[c]), impl.state, strict=True)]

    def combined_exprs(self) -> list[str]:
        """States ``__S<c>_<n>``: the prior ``__P..`` folded with the running ``__R..``."""
        out: list[str] = []
        for c, impl in enumerate(self.impls):
            names = [n for n, _ in impl.state]
            sql = impl.combine([q(f"__P{c}_{n}") for n in names], [q(f"__R{c}_{n}") for n in names])
            out += [f"{s} AS {q(f'__S{c}_{n}')}" for s, n in zip(sql, names, strict=True)]
        return out

    def result_exprs(self) -> list[str]:
        """Aggregate results ``__AGG<c>`` from the states."""
        return [f"{impl.result([q(f'__S{c}_{n}') for n, _ in impl.state])} AS {q(f'__AGG{c}')}"
                for c, impl in enumerate(self.impls)]

    def output_exprs(self) -> list[str]:
        """The output value columns and the HAVING flag ``__PASS``."""
        having = f"coalesce(({self.plan.having.sql}), false)" if self.plan.having is not None else "true"
        return [f"{c.sql} AS {q(name)}" for name, c in self.plan.values] + [f'{having} AS "__PASS"']

    # -- the step ------------------------------------------------------------------------------

    def step(self, stream_times: dict[int, int]) -> str:
        """The full statement: one row per emitted change, in emission order (reads ``batch``)."""
        group = ", ".join(q(g) for g in self.group)
        window = f"PARTITION BY {group} ORDER BY \"__SEQ\" ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
        running = self.running_exprs("w") + ['max("__TS") OVER w AS "__RTS"']
        order = '"__SEQ", "__WS"' if self.windowed else '"__SEQ"'
        return (f"WITH ev AS ({self.events(stream_times)}), "
                f"r AS (SELECT ev.*, {', '.join(running)} FROM ev WINDOW w AS ({window})), "
                + self._fold("r", self._prev_pass(), order))

    def _prev_pass(self) -> str:
        """Whether the group passed HAVING before each event (without HAVING every row passes)."""
        if self.plan.having is None:
            return 'false AS "__PREVPASS"'
        group = ", ".join(q(g) for g in self.group)
        return f'coalesce(lag("__PASS") OVER (PARTITION BY {group} ORDER BY "__SEQ"), "__PPASS", false) AS "__PREVPASS"'

    def _fold(self, rows: str, prev_pass: str, order: str | None) -> str:
        """Running states of ``rows`` folded with the stored state, results, HAVING, in ``order``."""
        join = " AND ".join(f"st.{q(g)} = r.{q(g)}" for g in self.group)
        return (f"j AS (SELECT r.*, {', '.join(self._prior_exprs())} FROM {rows} r "
                f"LEFT JOIN {self.state_table} st ON {join}), "
                + self._fold_prior("j", prev_pass, order, "g.*"))

    def _prior_exprs(self) -> list[str]:
        """The stored state of a group (``st``) as the prior columns ``__P..``, ``__PTS``, ``__PPASS``."""
        prior = [f"st.{q(col)} AS {q('__P' + col[3:])}" for col, _ in self.state_cols]
        return prior + ['st."__ROWTIME" AS "__PTS"', 'st."__PASS" AS "__PPASS"']

    def _fold_prior(self, rows: str, prev_pass: str, order: str | None, keep: str) -> str:
        """Results of ``rows`` that carry running (``__R..``) and prior (``__P..``) states:
        combined states, output time, results, values and HAVING; ``keep`` is what is selected."""
        combined, results, values = self.combined_exprs(), self.result_exprs(), self.output_exprs()
        out_ts = 'greatest(coalesce("__PTS", "__RTS"), "__RTS") AS "__OUTTS"'
        return (
            f"c AS (SELECT j.*, {', '.join(combined)}, {out_ts} FROM {rows} j), "
            f"f AS (SELECT c.*, {', '.join(results)} FROM c), "
            f"g AS (SELECT f.*, {', '.join(values)} FROM f) "
            f"SELECT {keep}, {prev_pass} FROM g" + (f" ORDER BY {order}" if order else "")
        )

    # -- the numpy fast path (engine.operators.running) -------------------------------------------

    def fast_runs(self) -> list[Running] | None:
        """The running states ``running.prepare`` computes for this plan, or None (general step):
        a stream source, no session window, only COUNT and integer SUM/MIN/MAX."""
        if self.plan.source.kind == "TABLE" or (self.plan.window is not None and self.plan.window.kind == "SESSION"):
            return None
        runs = []
        for c, call in enumerate(self.plan.calls):
            kind = _FAST_KINDS.get(call.name)
            if kind is None or (kind != "count" and len(call.args) != 1):
                return None
            if call.args and call.arg_types[0].base not in ("INTEGER", "BIGINT"):
                return None
            arrow = t.to_arrow(call.result_type) if kind != "count" else pa.int64()
            name = self.impls[c].state[0][0]
            runs.append(Running(f"__R{c}_{name}", kind, f"__A{call.index}_0" if call.args else None, arrow))
        return runs

    def fast_events(self) -> str:
        """Events with their windows, late ones not yet dropped (``running.prepare`` does; reads ``batch``)."""
        events = self._stream_events()
        return self._with_windows(events) if self.windowed else events

    def prior_of_groups(self, groups: str) -> str:
        """The stored state of each group in ``groups`` (its group columns and ``__GRP``) that has
        one, as prior columns; groups without state are absent."""
        join = " AND ".join(f"st.{q(g)} = r.{q(g)}" for g in self.group)
        return (f"SELECT r.\"__GRP\", {', '.join(self._prior_exprs())} FROM {groups} r "
                f"JOIN {self.state_table} st ON {join}")

    def fold_prepared(self, prepared: str) -> str:
        """The step's computed columns (and ``__ORD``) for events that already carry their running
        and prior states (``running.prepare``, ``running.with_prior``). Only new columns come back:
        moving the event columns (string keys above all) through DuckDB again cost more than the
        arithmetic; ``running.attach`` puts the two together."""
        keep = ", ".join(q(n) for n in ["__ORD", *self.computed_columns()])
        return "WITH " + self._fold_prior(prepared, self._prev_pass(), None, keep)

    def computed_columns(self) -> list[str]:
        """Columns ``_fold_prior`` adds, ``__PREVPASS`` excepted (it is selected separately)."""
        return ([f"__S{c}_{n}" for c, impl in enumerate(self.impls) for n, _ in impl.state] + ["__OUTTS"]
                + [f"__AGG{c}" for c in range(len(self.impls))] + [name for name, _ in self.plan.values]
                + ["__PASS"])

    def state_update(self) -> str:
        """The last row per group of a step's result (reads ``res``), shaped like the state table."""
        group = ", ".join(q(g) for g in self.group)
        cols = []
        for name, _ in self.state_schema():
            if name == "__ROWTIME":
                cols.append('"__OUTTS" AS "__ROWTIME"')
            elif name == "__EMITTED":
                cols.append('false AS "__EMITTED"')
            else:
                cols.append(q(name))
        return (f"SELECT {', '.join(cols)} FROM res QUALIFY row_number() OVER (PARTITION BY {group} "
                f"ORDER BY \"__SEQ\" DESC) = 1")

    def view(self, name: str) -> str:
        """The user-facing materialised table: key, window bounds and value columns of live rows."""
        cols = [f"{q(k)} AS {q(n)}" for k, (n, _) in zip(self.keys, self.plan.keys, strict=True)]
        if self.windowed:
            cols += ['"__WS" AS WINDOWSTART', '"__WE" AS WINDOWEND']
        cols += [q(n) for n, _ in self.plan.values] + ['"__ROWTIME" AS ROWTIME']
        return f"CREATE OR REPLACE VIEW {q(name)} AS SELECT {', '.join(cols)} FROM {self.state_table} WHERE \"__PASS\""


def source_key_types(source: Source) -> list[str]:
    """DuckDB types of a source's key columns."""
    return [t.to_duckdb(c.type) for c in source.key_columns]
