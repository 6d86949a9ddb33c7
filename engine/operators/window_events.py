"""A stream batch's aggregate events and their windows in numpy (the fast path's first step).

``AggregateSql.fast_events`` turns the decoded batch into events in DuckDB: group keys
``__K<i>``, arguments ``__A<c>_<j>``, ``__TS``/``__P``/``__SEQ``, and per window ``__WS``/``__WE``
(hopping: one row per window, in ascending order). When the plan has no WHERE and its keys and
arguments are plain columns, that statement only moves columns and does integer arithmetic; here
the same rows, in the same order and types, come from Arrow slices and numpy — the DuckDB round
trip (the string keys in and out) cost more than the step's numpy.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.expressions.scope import quote_ident as q
from engine.operators.codec import NULL_VALUE
from engine.planner.aggregate import AggregatePlan


class WindowEvents:
    """Builds the events of one plan; ``for_plan`` says whether the plan qualifies."""

    def __init__(self, columns: list[tuple[str, str]], kind: str | None, size: int, advance: int) -> None:
        self._columns = columns  # (event column, batch column)
        self._kind = kind
        self._size = size
        self._advance = advance

    @classmethod
    def for_plan(cls, plan: AggregatePlan, keys: list[str]) -> WindowEvents | None:
        """The builder for a stream plan without WHERE whose keys and arguments are plain
        columns, tumbling, hopping or unwindowed; else None (the SQL builds the events)."""
        if plan.source.kind == "TABLE" or plan.where is not None:
            return None
        window = plan.window
        if window is not None and window.kind not in ("TUMBLING", "HOPPING"):
            return None
        names = {q(c.name): c.name for c in plan.source.columns}
        exprs = [(k, c.sql) for k, (_, c) in zip(keys, plan.keys, strict=True)]
        exprs += [(f"__A{call.index}_{j}", arg) for call in plan.calls for j, arg in enumerate(call.args)]
        if any(sql not in names for _, sql in exprs):
            return None
        columns = [(event, names[sql]) for event, sql in exprs]
        if window is None:
            return cls(columns, None, 0, 0)
        size = window.size_ms
        return cls(columns, window.kind, size, window.advance_ms or size)

    def __call__(self, batch: pa.Table) -> pa.Table | None:
        """The events of ``batch`` (with ``__SEQ``), or None when the SQL should decide (null
        event times)."""
        keep = pc.fill_null(pc.invert(batch.column(NULL_VALUE)), False)
        for event, col in self._columns:
            if event.startswith("__K"):
                keep = pc.and_(keep, pc.is_valid(batch.column(col)))
        rows = batch.filter(keep)
        ts_col = rows.column("ROWTIME")
        if ts_col.null_count:
            return None
        ts = ts_col.to_numpy()
        take: np.ndarray | None = None
        if self._kind == "HOPPING":
            size, adv = self._size, self._advance
            first = (np.maximum(0, ts - size + adv) // adv) * adv
            counts = np.maximum(0, (ts - first) // adv + 1)
            take = np.repeat(np.arange(len(ts)), counts)
            starts = np.cumsum(counts) - counts  # each row's first window in the output
            ws = first[take] + adv * (np.arange(len(take)) - starts[take])
        elif self._kind == "TUMBLING":
            ws = ts - np.mod(ts, self._size)
        n = len(ts) if take is None else len(take)
        indices = None if take is None else pa.array(take)

        def pick(name: str) -> pa.ChunkedArray | pa.Array:
            col = rows.column(name)
            return col if indices is None else col.take(indices)

        arrays = [pick(col) for _, col in self._columns]
        arrays += [pick("ROWTIME"), pick("ROWPARTITION"), pick("__SEQ"),
                   pa.array(np.ones(n, np.int32)), pa.array(np.zeros(n, bool))]
        names = [event for event, _ in self._columns] + ["__TS", "__P", "__SEQ", "__SIGN", "__HIDE"]
        if self._kind is not None:
            arrays += [pa.array(ws), pa.array(ws + self._size)]
            names += ["__WS", "__WE"]
        return pa.Table.from_arrays(arrays, names=names)
