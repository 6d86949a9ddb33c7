"""Transient queries: a push or pull query run over the data present now, returning rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from engine.catalog import Source
from engine.operators.codec import SourceDecoder
from engine.operators.evaluate import BatchEvaluator
from engine.planner.stateless import TS_COLUMN, plan_stateless
from engine.results import RowsResult
from engine.runtime.reader import TopicReader
from parser import statements as st

if TYPE_CHECKING:
    from engine.engine import Engine


def _latest_per_key(table: pa.Table, source: Source, is_null: pa.Array | None) -> pa.Table:
    """A table's current rows: the last record per key, tombstones removing the key."""
    keys = [c.name for c in source.key_columns]
    if not keys or table.num_rows == 0:
        return table
    idx = pa.array(range(table.num_rows), pa.int64())
    with_idx = table.append_column("__idx", idx)
    last = with_idx.group_by(keys, use_threads=False).aggregate([("__idx", "max")])
    keep = pc.sort_indices(last.column("__idx_max"))
    rows = with_idx.take(last.column("__idx_max").take(keep))
    if is_null is not None:
        alive = pc.invert(is_null.take(rows.column("__idx")))
        rows = rows.filter(alive)
    return rows.drop_columns(["__idx"])


def run_transient(engine: Engine, stmt: st.Query, text: str, source: Source) -> RowsResult:
    """Run a push/pull query over everything in the source's topic now."""
    plan = plan_stateless(stmt.select, source, persistent=False)
    topic = engine.store.topic(source.topic)
    columns = {c.name: c for c in plan.key_columns + plan.value_columns}
    ordered = [columns[n] for n in plan.select_order if n in columns]
    result = RowsResult(text, [(c.name, c.type) for c in ordered])
    if topic is None or stmt.select.limit == 0:
        return result
    decoder = SourceDecoder(source)
    evaluator = BatchEvaluator(engine, "transient")
    reader = TopicReader(engine.store, topic, group="__transient", from_beginning=True)
    reader.positions = [0] * topic.partitions
    decoded_parts: list[pa.Table] = []
    null_parts: list[pa.Array] = []
    while (raw := reader.fetch()) is not None:
        decoded, errors = decoder.decode(raw)
        decoded_parts.append(decoded)
        null_parts.append(decoder.last_null_mask)
    if not decoded_parts:
        return result
    table = pa.concat_tables(decoded_parts)
    if source.kind == "TABLE":
        table = _latest_per_key(table, source, pa.concat_arrays(null_parts) if null_parts else None)
    out = evaluator.run(plan.sql, table)
    if out is None:
        return result
    out = out.drop_columns([TS_COLUMN])
    if stmt.select.limit is not None:
        out = out.slice(0, stmt.select.limit)
    names = [c.name for c in ordered]
    result.rows = [list(r.values()) for r in out.select(names).to_pylist()]
    return result
