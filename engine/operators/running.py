"""Running aggregates of a batch in numpy: the aggregate step's fast path.

The general step (``AggregateSql.step``) evaluates every running partial state as a DuckDB
window function ``OVER (PARTITION BY group ORDER BY __SEQ)``; sorting a batch by a string key
and building segment trees cost most of a windowed COUNT. For the common aggregates (COUNT, SUM
and MIN/MAX of integers) over a stream, the same values come from one stable sort of integer
group ids and segmented cumulative sums / maxima here. The stored state is looked up once per
group (``AggregateSql.prior_of_groups``, not a join per event) and gathered onto the events
(``with_prior``); the SQL that remains (``AggregateSql.fold_prepared``) only computes the new
columns, which ``attach`` adds to the events.

Per batch of events (rows in offset order, a hopping window's rows of one record adjacent):

- stream time ``__ST`` per partition (prior stream time, then the running max of ``__TS``), and
  rows whose window ended more than the grace period before it dropped (``_windowed`` in SQL);
- ``__R<c>_<n>`` running partial states, ``__RTS`` the running max of the event time per group;
- ``__LAST`` true on the last row of each group (the state to store), ``__ORD`` the emission order,
  ``__GRP`` the group's number (dense, 0 .. groups - 1).

Anything the integer tricks cannot hold exactly (sums that could overflow int64, values too
spread for the segmented max) returns None and the caller runs the general SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_LIMIT = 1 << 62  # headroom below int64's range for sums and offset maxima


@dataclass(frozen=True, slots=True)
class Running:
    """One running partial state: output column, kind (count/sum/min/max), argument column."""

    column: str
    kind: str
    arg: str | None
    type: pa.DataType


def _ints(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    """int64 values (nulls as 0) and the validity mask (None when no nulls)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    valid = None if arr.null_count == 0 else pc.is_valid(arr).to_numpy(zero_copy_only=False)
    values = pc.fill_null(arr, 0) if arr.null_count else arr
    return values.to_numpy(zero_copy_only=False).astype(np.int64, copy=False), valid


def _group_ids(table: pa.Table, group: list[str]) -> np.ndarray | None:
    """Dense int ids of the group columns' value combinations."""
    gid: np.ndarray | None = None
    for name in group:
        col = table.column(name).combine_chunks()
        try:
            idx = pc.dictionary_encode(col).indices.to_numpy(zero_copy_only=False).astype(np.int64)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            return None  # e.g. a STRUCT key: the SQL path handles it
        if gid is None:
            gid = idx
        else:
            # Mixed radix; ids stay below n ** columns, compacted only if that could overflow.
            width = int(idx.max()) + 1
            if int(gid.max()) + 1 > _LIMIT // width:
                gid = np.unique(gid, return_inverse=True)[1].astype(np.int64)
            gid = gid * width + idx
    return gid


def _segmented_max(values: np.ndarray, valid: np.ndarray | None, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Running max within consecutive segments (``seg``: segment number per row, ascending).

    Each segment is lifted above the previous one by more than the values' spread so one
    ``maximum.accumulate`` never carries a value across a boundary. Returns (max, has_value).
    """
    if not len(values):
        return values, np.zeros(0, bool)
    lo, hi = int(values.min()), int(values.max())
    spread = hi - lo + 2  # +1 keeps 0 free for "no value yet" (nulls)
    if spread * (int(seg[-1]) + 1) >= _LIMIT:
        return None
    lifted = values - lo + 1
    if valid is not None:
        lifted = np.where(valid, lifted, 0)
    lifted = lifted + seg * spread
    run = np.maximum.accumulate(lifted) - seg * spread
    has = run > 0
    return run + lo - 1, has


def prepare(events: pa.Table, group: list[str], runs: list[Running], stream_times: dict[int, int],
            grace_ms: int, windowed: bool) -> pa.Table | None:
    """``events`` with late rows dropped and the running columns added (see the module docstring)."""
    if events.num_rows == 0:
        return None
    seq = events.column("__SEQ").to_numpy()
    ws = events.column("__WS").to_numpy() if windowed else np.zeros(len(seq), np.int64)
    ordered = bool(np.all((seq[1:] > seq[:-1]) | ((seq[1:] == seq[:-1]) & (ws[1:] > ws[:-1]))))
    if not ordered:  # DuckDB usually keeps the batch's order; sort only when it did not
        events = events.take(pa.array(np.lexsort((ws, seq))))
    ts, _ = _ints(events.column("__TS"))
    if windowed:
        keep = _on_time(events, ts, stream_times, grace_ms)
        events, ts = events.filter(pa.array(keep)), ts[keep]
    n = events.num_rows
    gid = _group_ids(events, group) if n else None
    if gid is None:
        return None  # nothing left (the general step handles an empty batch as well)
    by_group = np.argsort(gid, kind="stable")  # offset order kept within each group
    sorted_gid = gid[by_group]
    first = np.ones(n, bool)
    first[1:] = sorted_gid[1:] != sorted_gid[:-1]
    seg = np.cumsum(first) - 1
    seg_start = np.flatnonzero(first)[seg]
    cols: dict[str, pa.Array] = {}
    for run in runs:
        values = _running(events, run, by_group, seg, seg_start)
        if values is None:
            return None
        cols[run.column] = values
    rts = _segmented_max(ts[by_group], None, seg)
    if rts is None:
        return None
    cols["__RTS"] = _scatter(rts[0], by_group, pa.int64())
    last = np.ones(n, bool)
    last[:-1] = first[1:]
    cols["__LAST"] = _scatter(last, by_group, pa.bool_())
    cols["__ORD"] = pa.array(np.arange(n, dtype=np.int64))
    cols["__GRP"] = _scatter(seg, by_group, pa.int64())
    for name, arr in cols.items():
        events = events.append_column(name, arr)
    return events


def last_rows(res: pa.Table, state_columns: list[str]) -> pa.Table:
    """The new state rows: each group's last row of a step's result, as the state table's columns
    (``__ROWTIME`` is the output time, ``__EMITTED`` false), without another DuckDB statement."""
    last = res.filter(res.column("__LAST"))
    cols = []
    for name in state_columns:
        if name == "__ROWTIME":
            cols.append(last.column("__OUTTS"))
        elif name == "__EMITTED":
            cols.append(pa.array(np.zeros(last.num_rows, bool)))
        else:
            cols.append(last.column(name))
    return pa.Table.from_arrays(cols, names=state_columns)


def groups(ready: pa.Table, group: list[str]) -> pa.Table:
    """One row per group of a prepared batch: its group columns and ``__GRP``."""
    return ready.filter(ready.column("__LAST")).select([*group, "__GRP"])


def with_prior(ready: pa.Table, prior: pa.Table) -> pa.Table:
    """``ready`` with each event's group's stored state (``prior``: one row per group that has
    one, keyed by ``__GRP``) as columns; null where the group has none."""
    grp = ready.column("__GRP").to_numpy()
    slot = np.full(int(grp.max()) + 1 if len(grp) else 0, -1, np.int64)
    slot[prior.column("__GRP").to_numpy()] = np.arange(prior.num_rows, dtype=np.int64)
    at = slot[grp]
    indices = pa.array(at, mask=at < 0)
    for name in prior.column_names:
        if name != "__GRP":
            ready = ready.append_column(name, prior.column(name).take(indices))
    return ready


def attach(ready: pa.Table, computed: pa.Table) -> pa.Table:
    """``ready`` with the columns DuckDB computed for it, matched by ``__ORD`` (DuckDB keeps a
    projection's order, so this is usually no reordering), in emission order."""
    ords = computed.column("__ORD").to_numpy()
    if len(ords) != ready.num_rows or not bool(np.all(ords == np.arange(len(ords)))):
        computed = computed.take(pa.array(np.argsort(ords, kind="stable")))
    for name in computed.column_names:
        if name != "__ORD":
            ready = ready.append_column(name, computed.column(name))
    return ready


def _on_time(events: pa.Table, ts: np.ndarray, stream_times: dict[int, int], grace_ms: int) -> np.ndarray:
    """True for rows whose window ends after stream time minus grace (stream time per partition)."""
    parts = events.column("__P").to_numpy(zero_copy_only=False)
    st = np.empty(len(ts), np.int64)
    for p in np.unique(parts).tolist():
        mask = parts == p
        prior = stream_times.get(p)
        running = np.maximum.accumulate(ts[mask])
        st[mask] = running if prior is None else np.maximum(running, prior)
    ends, _ = _ints(events.column("__WE"))
    return ends > st - grace_ms


def _running(events: pa.Table, run: Running, by_group: np.ndarray, seg: np.ndarray,
             seg_start: np.ndarray) -> pa.Array | None:
    n = events.num_rows
    if run.arg is None:
        values, valid = np.ones(n, np.int64), None
    else:
        values, valid = _ints(events.column(run.arg))
    if run.kind == "count":
        counted = np.ones(n, np.int64) if valid is None else valid.astype(np.int64)  # COUNT(*): no nulls
        return _scatter(_segmented_sum(counted[by_group], seg_start), by_group, run.type)
    if run.kind == "sum":
        if len(values) and float(np.abs(values).sum(dtype=np.float64)) >= _LIMIT:
            return None  # could overflow int64: let DuckDB's HUGEINT sum decide
        return _scatter(_segmented_sum(values[by_group], seg_start), by_group, run.type)
    sign = 1 if run.kind == "max" else -1
    if sign < 0 and len(values) and int(values.min()) == np.iinfo(np.int64).min:
        return None
    result = _segmented_max(sign * values[by_group], None if valid is None else valid[by_group], seg)
    if result is None:
        return None
    best, has = result
    return _scatter(sign * best, by_group, run.type, mask=~has)


def _segmented_sum(values: np.ndarray, seg_start: np.ndarray) -> np.ndarray:
    total = np.cumsum(values)
    return total - total[seg_start] + values[seg_start]


def _scatter(sorted_values: np.ndarray, by_group: np.ndarray, type_: pa.DataType,
             mask: np.ndarray | None = None) -> pa.Array:
    """Back from group order to row order."""
    out = np.empty_like(sorted_values)
    out[by_group] = sorted_values
    null = None
    if mask is not None and mask.any():
        null = np.empty_like(mask)
        null[by_group] = mask
    return pa.array(out, type=type_, mask=null)
