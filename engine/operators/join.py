"""The join operator: decode a batch of one join input, push it up the join tree, hand the joined
rows to the rest of the query (projection/filter/re-key, aggregation, table materialisation).

A batch of input ``i`` enters the tree at node ``max(i, 1)`` (input 0 is the left of node 1,
input ``i`` the right of node ``i``); each node's output is the left input of the next node,
re-keyed by that node's left join expression. Every node keeps its state in DuckDB tables of the
engine's database, written through one cursor that the downstream aggregate or materialiser
shares, so the join state, the aggregate state and the source offsets commit in one
transaction (commit order: process, produce, then ``commit``; see ``engine.runtime.query``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine import types as t
from engine.catalog import ROWTIME, Source
from engine.expressions import compile_expression
from engine.expressions.scope import quote_ident as q
from engine.operators.aggregate import AggregateProcessor
from engine.operators.codec import NULL_VALUE, SinkEncoder, SourceDecoder
from engine.operators.evaluate import BatchEvaluator
from engine.operators.join_common import Meta, Side, run, unregister
from engine.operators.join_delivery import ExactlyOnceDelivery
from engine.operators.join_streams import StreamStreamJoin
from engine.operators.join_tables import ForeignKeyJoin, StreamTableJoin, TableTableJoin
from engine.operators.materialize import TableMaterializer
from engine.planner.aggregate import AggregatePlan
from engine.planner.join import JoinPlan
from engine.planner.join_scope import joined_name, joined_scope, leaf_columns
from engine.planner.join_tree import JoinLeaf, JoinNode
from engine.planner.stateless import TS_COLUMN
from engine.state import store

if TYPE_CHECKING:
    import duckdb

    from engine.engine import Engine
    from engine.runtime.push import PushQuery

Node = StreamStreamJoin | StreamTableJoin | TableTableJoin | ForeignKeyJoin


def _leaf_side(leaf: JoinLeaf, key_type: str) -> Side:
    return Side(tuple((joined_name(leaf.alias, n), t.to_duckdb(ty)) for n, ty in leaf_columns(leaf)), key_type)


class JoinTopology:
    """The join tree's operators and SQL, independent of what consumes the joined rows."""

    def __init__(self, query_id: str, plan: JoinPlan, meta: Meta) -> None:
        self.plan = plan
        leaves = plan.tree.leaves
        scope = joined_scope(leaves)
        self._key_sql = []  # per leaf: its join key expression
        for leaf in leaves:
            node = plan.tree.nodes[max(leaf.index, 1) - 1]
            expr = node.left_expr if leaf.index == 0 else node.right_expr
            self._key_sql.append(compile_expression(expr, scope))
        self._left_key = [compile_expression(n.left_expr, scope) for n in plan.tree.nodes]
        self.nodes: list[Node] = []
        left = _leaf_side(leaves[0], t.to_duckdb(self._key_sql[0].type))
        for node in plan.tree.nodes:
            left = Side(left.columns, t.to_duckdb(self._left_key[node.index - 1].type))
            right = _leaf_side(leaves[node.index], t.to_duckdb(self._key_sql[node.index].type))
            self.nodes.append(self._node(query_id, node, left, right, meta))
            left = Side(left.columns + right.columns, left.key_type)

    def _node(self, query_id: str, node: JoinNode, left: Side, right: Side, meta: Meta) -> Node:
        if node.left_kind == "STREAM" and node.right_kind == "STREAM":
            return StreamStreamJoin(query_id, node, left, right, meta)
        if node.left_kind == "STREAM":
            return StreamTableJoin(query_id, node, left, right)
        if node.foreign_key:
            keys = [joined_name(self.plan.tree.leaves[0].alias, c.name)
                    for c in self.plan.tree.leaves[0].source.key_columns]
            return ForeignKeyJoin(query_id, node, left, right, keys)
        return TableTableJoin(query_id, node, left, right)

    def prepare_sql(self, index: int) -> str:
        """Decoded batch of input ``index`` -> the join layout (joined names, key, time, delete)."""
        leaf = self.plan.tree.leaves[index]
        renames = ", ".join(f"{q(n)} AS {q(joined_name(leaf.alias, n))}" for n, _ in leaf_columns(leaf))
        inner = (f'SELECT {renames}, "ROWTIME" AS "__TS", "{NULL_VALUE}" AS "__DEL", "ROWPARTITION" AS "__P", '
                 f'"ROWOFFSET" AS "__O" FROM batch')
        return f'SELECT *, {self._key_sql[index].sql} AS "__JK" FROM ({inner})'

    def rekey_sql(self, node_index: int) -> str:
        """Output of a node -> left input of node ``node_index`` (its left join expression as key)."""
        return f'SELECT * REPLACE ({self._left_key[node_index - 1].sql} AS "__JK") FROM __jdelta'

    def final_sql(self) -> str:
        """Output of the last node -> a decoded batch of the plan's joined source."""
        key = self.plan.key
        source = self.plan.source
        if key.foreign_key:
            keys = [q(n) for n in key.names]
        else:
            keys = [f'CAST("__JK" AS {t.to_duckdb(key.types[0])}) AS {q(key.names[0])}']
        values = [q(c.name) for c in source.value_columns]
        return (f'SELECT {", ".join(keys + values)}, "__TS" AS "ROWTIME", "__P" AS "ROWPARTITION", '
                f'"__O" AS "ROWOFFSET", "__DEL" AS "{NULL_VALUE}" FROM __jdelta')

    def propagate(self, cur: duckdb.DuckDBPyConnection, index: int, decoded: pa.Table) -> pa.Table:
        """The joined rows (final layout) caused by a decoded batch of input ``index``."""
        cur.register("batch", decoded)
        try:
            delta = _numbered(run(cur, self.prepare_sql(index)))
        finally:
            unregister(cur, "batch")
        first = max(index, 1)
        side = "L" if index == 0 else "R"
        for node in self.nodes[first - 1:]:
            delta = node.process(cur, side, delta)
            if delta.num_rows == 0:
                return delta
            if node.node.index < len(self.nodes):
                delta = _with(cur, delta, self.rekey_sql(node.node.index + 1))
            side = "L"
        return _with(cur, delta, self.final_sql())


def _numbered(table: pa.Table) -> pa.Table:
    return table.append_column("__SEQ", pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _with(cur: duckdb.DuckDBPyConnection, delta: pa.Table, sql: str) -> pa.Table:
    cur.register("__jdelta", delta)
    try:
        return run(cur, sql)
    finally:
        unregister(cur, "__jdelta")


class JoinProcessor:
    """A persistent or push query over a join (see the module docstring)."""

    def __init__(self, engine: Engine, query_id: str, plan: JoinPlan, sink: Source | None,
                 push: PushQuery | None = None, view: str | None = None) -> None:
        self._engine = engine
        self._query_id = query_id
        self._plan = plan
        self._push = push
        self._cur = engine.db.cursor()
        store.ensure_tables(self._cur)
        self._meta = Meta(self._cur, query_id)
        self._topology = JoinTopology(query_id, plan, self._meta)
        for node in self._topology.nodes:
            node.create(self._cur)
        self._decoders = [SourceDecoder(leaf.source) for leaf in plan.tree.leaves]
        self.topics = [leaf.source.topic for leaf in plan.tree.leaves]
        self._agg: AggregateProcessor | None = None
        self._mat: TableMaterializer | None = None
        self._encoder = SinkEncoder(sink) if sink is not None and push is None else None
        self._evaluator = BatchEvaluator(engine, query_id)
        if isinstance(plan.post, AggregatePlan):
            self._agg = AggregateProcessor(engine, query_id, plan.post, sink if push is None else None, push=push,
                                           view=view, cursor=self._cur)
        elif sink is not None and sink.kind == "TABLE" and push is None:
            self._mat = TableMaterializer(engine, query_id, sink, cursor=self._cur)
        self._in_tx = False
        self._filtered = plan.filtered
        self._sink_ts = sink.timestamp_column if sink is not None and sink.timestamp_column else TS_COLUMN
        # Exactly-once output needs a sink only this query writes (not INSERT INTO targets).
        own_sink = sink is not None and push is None and sink.is_sink_of == query_id
        self.delivery = ExactlyOnceDelivery(engine, query_id) if own_sink else None

    def initial_positions(self, topic: str) -> dict[int, int]:
        """Offsets saved with the join state (empty on first start)."""
        return store.load_offsets(self._cur, self._query_id, topic)

    def __call__(self, index: int, raw: pa.RecordBatch) -> list[pa.RecordBatch]:
        decoded, errors = self._decoders[index].decode(raw)
        self._engine.processing_log.write(self._query_id, errors)
        if decoded.num_rows == 0:
            return []
        self._begin()
        try:
            joined = self._topology.propagate(self._cur, index, decoded)
            if joined.num_rows == 0:
                return []
            return self._downstream(joined)
        except BaseException:
            self.rollback()
            raise

    def _downstream(self, joined: pa.Table) -> list[pa.RecordBatch]:
        if self._agg is not None:
            return self._agg.process(joined)
        post = self._plan.post
        assert not isinstance(post, AggregatePlan)
        out = self._evaluator.run(post.sql, joined)
        if out is None or out.num_rows == 0:
            return []
        if self._push is not None:
            self._push.offer(out.select([name for name, _ in self._push.columns]))
            return []
        if self._plan.source.kind == "TABLE" and post.key_columns:
            out = out.filter(pc.is_valid(out.column(post.key_columns[0].name)))
            if self._filtered and self._mat is not None:
                out = self._drop_unneeded_deletes(out, [c.name for c in post.key_columns])
        if self._mat is not None:
            renamed = out.rename_columns([ROWTIME if n == TS_COLUMN else n for n in out.column_names])
            self._mat.apply(renamed, out.column(NULL_VALUE))
        if self._encoder is None:
            return []
        ts_column = self._sink_ts if self._sink_ts in out.column_names else TS_COLUMN
        return [self._encoder.encode(out, out.column(ts_column), null_keys=not post.partitioned)]

    def _drop_unneeded_deletes(self, out: pa.Table, keys: list[str]) -> pa.Table:
        """A table WHERE turns a failing row into a delete, but only where the key had a row
        (Kafka Streams' KTableFilter forwards nothing when old and new value are both filtered)."""
        assert self._mat is not None
        match = " AND ".join(f"m.{q(k)} = o.{q(k)}" for k in keys)
        self._cur.register("__jout", out.append_column("__OSEQ", pa.array(np.arange(out.num_rows))))
        try:
            keep = run(self._cur, f'SELECT CASE WHEN NOT o."{NULL_VALUE}" THEN true '
                                  f'WHEN row_number() OVER w = 1 THEN m.{q(keys[0])} IS NOT NULL '
                                  f'ELSE NOT lag(o."{NULL_VALUE}") OVER w END AS keep FROM __jout o '
                                  f'LEFT JOIN {q(self._mat.name)} m ON {match} '
                                  f'WINDOW w AS (PARTITION BY {", ".join("o." + q(k) for k in keys)} '
                                  f'ORDER BY o."__OSEQ") ORDER BY o."__OSEQ"')
        finally:
            unregister(self._cur, "__jout")
        return out.filter(keep.column("keep"))

    def _begin(self) -> None:
        if self._agg is not None:
            self._agg.begin()
        elif self._mat is not None:
            self._mat.begin()
        elif not self._in_tx:
            self._cur.execute("BEGIN TRANSACTION")
            self._in_tx = True

    def commit(self, topic: str, positions: list[int]) -> None:
        """Save the join counters and the offsets with the state, and commit the transaction."""
        self._begin()
        self._meta.save(self._cur)
        if self._agg is not None:
            self._agg.commit(topic, positions)
        elif self._mat is not None:
            self._mat.commit(topic, positions)
        else:
            store.save_offsets(self._cur, self._query_id, topic, positions)
            self._cur.execute("COMMIT")
            self._in_tx = False

    def rollback(self) -> None:
        """Abandon the open transaction; in-memory counters go back to the saved ones."""
        if self._agg is not None:
            self._agg.rollback()
        elif self._mat is not None:
            self._mat.rollback()
        elif self._in_tx:
            self._cur.execute("ROLLBACK")
            self._in_tx = False
        self._meta.load(self._cur)

    def drop_state(self) -> None:
        """Remove the join state, the downstream state and the bookkeeping (TERMINATE / close)."""
        for node in self._topology.nodes:
            node.drop(self._cur)
        self._meta.drop(self._cur)
        if self._agg is not None:
            self._agg.drop_state()
        elif self._mat is not None:
            self._mat.drop_state()
        store.drop_query_state(self._cur, self._query_id)
        if self.delivery is not None:
            self.delivery.drop()
