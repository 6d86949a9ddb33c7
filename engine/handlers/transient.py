"""Transient queries: push queries (EMIT CHANGES / FINAL) and pull queries over tables.

A push query is a query without a sink whose rows go to a ``PushQuery`` handle; ``execute``
runs it over the data present now and returns the rows (the shell and server stream them
instead). A pull query reads a table's materialised rows in DuckDB, which is where streamsql
goes past ksqlDB: ``Engine.query`` also accepts any DuckDB SQL over those tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from engine.catalog import ROWOFFSET, ROWPARTITION, ROWTIME, Column, QueryInfo, Source
from engine.errors import KsqlStatementError
from engine.expressions import ExpressionError, compile_expression, format_expression
from engine.expressions.scope import Scope, ScopeEntry, quote_ident
from engine.handlers.queries import is_aggregation, plan_select, single_source
from engine.operators.aggregate import AggregateProcessor
from engine.operators.join import JoinProcessor
from engine.operators.stateless import PushProcessor
from engine.planner.aggregate import AggregatePlan
from engine.planner.join import plan_join
from engine.planner.projection import column_name, expand_select
from engine.results import RowsResult
from engine.runtime.push import PushQuery, next_transient_id
from engine.runtime.query import RunningQuery
from engine.runtime.reader import TopicReader
from engine.types import BIGINT
from parser import statements as st

if TYPE_CHECKING:
    from engine.engine import Engine


def start_push_query(engine: Engine, stmt: st.Query, text: str) -> PushQuery:
    """Start a transient push query whose rows stream to the returned handle."""
    if stmt.select.joins:  # joins: engine/planner/join.py, engine/operators/join.py
        return _start_join_push(engine, stmt, text)
    source = single_source(engine, stmt.select)
    plan = plan_select(stmt.select, source, persistent=False, config=engine.properties)
    columns = {c.name: c for c in plan.key_columns + plan.value_columns}
    if isinstance(plan, AggregatePlan) and plan.window is not None:
        columns.update({n: Column(n, BIGINT) for n in ("WINDOWSTART", "WINDOWEND")})
    ordered = [(columns[n].name, columns[n].type) for n in plan.select_order if n in columns]
    info = QueryInfo(next_transient_id(), text, None, [source.name])
    push = PushQuery(engine, info, ordered, stmt.select.limit)
    topic = engine.store.topic(source.topic)
    if topic is None:
        raise KsqlStatementError(f"Topic '{source.topic}' does not exist.")
    processor: AggregateProcessor | PushProcessor
    if isinstance(plan, AggregatePlan):
        aggregate = AggregateProcessor(engine, info.id, plan, None, push=push)
        push.on_close = aggregate.drop_state  # transient state goes with the query
        processor = aggregate
    else:
        processor = PushProcessor(engine, info.id, plan, source, push)
    earliest = engine.properties.get("ksql.streams.auto.offset.reset", "earliest") == "earliest"
    reader = TopicReader(engine.store, topic, f"__{info.id}", from_beginning=earliest)
    engine.running[info.id] = RunningQuery(info, [reader], processor, None)
    return push


def _start_join_push(engine: Engine, stmt: st.Query, text: str) -> PushQuery:
    """A push query over a join: one reader per joined source, the join operator feeding the push."""
    plan = plan_join(stmt.select, engine.catalog, persistent=False, config=engine.properties)
    columns = {c.name: c for c in plan.key_columns + plan.value_columns}
    if isinstance(plan.post, AggregatePlan) and plan.post.window is not None:
        columns.update({n: Column(n, BIGINT) for n in ("WINDOWSTART", "WINDOWEND")})
    ordered = [(columns[n].name, columns[n].type) for n in plan.select_order if n in columns]
    sources = [leaf.source for leaf in plan.tree.leaves]
    info = QueryInfo(next_transient_id(), text, None, [s.name for s in sources])
    push = PushQuery(engine, info, ordered, stmt.select.limit)
    processor = JoinProcessor(engine, info.id, plan, None, push=push)
    push.on_close = processor.drop_state  # transient state goes with the query
    earliest = engine.properties.get("ksql.streams.auto.offset.reset", "earliest") == "earliest"
    readers = []
    for src in sources:
        topic = engine.store.topic(src.topic)
        if topic is None:
            raise KsqlStatementError(f"Topic '{src.topic}' does not exist.")
        readers.append(TopicReader(engine.store, topic, f"__{info.id}", from_beginning=earliest))
    engine.running[info.id] = RunningQuery(info, readers, processor, None)
    return push


def run_query(engine: Engine, stmt: st.Query, text: str) -> RowsResult:
    """Run a pull query, or a push query over the data present now, and return its rows."""
    source = single_source(engine, stmt.select)
    if stmt.select.emit is None and source.kind == "TABLE":
        if stmt.select.joins:
            raise KsqlStatementError("Pull queries don't support JOIN clauses.")
        return pull_query(engine, stmt, text, source)
    if stmt.select.limit == 0:
        push = start_push_query(engine, stmt, text)
        push.close()
        return RowsResult(text, push.columns, [])
    push = start_push_query(engine, stmt, text)
    try:
        engine.run_until_idle()
        rows = push.poll()
    finally:
        push.close()
    return RowsResult(text, push.columns, rows, query_id=push.id)


def _pull_scope(source: Source, alias: str | None) -> Scope:
    qualifier = alias or source.name
    cols = [(c.name, c.type) for c in source.key_columns]
    if source.window is not None:
        cols += [("WINDOWSTART", BIGINT), ("WINDOWEND", BIGINT)]
    cols += [(c.name, c.type) for c in source.value_columns] + [(ROWTIME, BIGINT)]
    return Scope(ScopeEntry(qualifier, n, quote_ident(n), t) for n, t in cols)


def pull_query(engine: Engine, stmt: st.Query, text: str, source: Source) -> RowsResult:
    """SELECT ... FROM table [WHERE ...] [LIMIT n] over the table's materialised rows."""
    select = stmt.select
    if select.limit is not None and select.limit < 0:
        raise KsqlStatementError("Pull queries don't support negative integers in the LIMIT clause. "
                                 "See https://cnfl.io/queries for more info.")
    if not source.read_only and source.is_sink_of is None:
        raise KsqlStatementError(
            f"The `{source.name}` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE "
            f"QUERYABLE_{source.name} AS SELECT * FROM {source.name}'. See https://cnfl.io/queries for more info.")
    if is_aggregation(select):
        raise KsqlStatementError("Pull queries don't support GROUP BY clauses.")
    if select.partition_by:
        raise KsqlStatementError("Pull queries don't support PARTITION BY clauses.")
    alias = select.from_.alias
    items = expand_select(select.items, {alias or source.name: source}, persistent=False)
    if source.window is not None and any(isinstance(i.expr, exp.Star) for i in select.items):
        n_keys = len(source.key_columns)
        bounds = [type(items[0])(n, exp.Column(this=exp.Identifier(this=n, quoted=True))) for n in ("WINDOWSTART", "WINDOWEND")]
        items = items[:n_keys] + bounds + items[n_keys:]
    _check_pseudo_columns([i.expr for i in items], "SELECT")
    if select.where is not None:
        _check_pseudo_columns([select.where], "WHERE")
    scope = _pull_scope(source, alias)
    try:
        compiled = [(i.name, compile_expression(i.expr, scope)) for i in items]
    except ExpressionError as err:
        raise KsqlStatementError(str(err)) from err
    try:
        where = compile_expression(select.where, scope, "WHERE") if select.where is not None else None
    except ExpressionError as err:
        statement = format_expression(select.where) if select.where is not None else ""
        raise KsqlStatementError(f"Error in WHERE expression: {err}\nStatement: {statement}") from err
    _check_table_scan(engine, source, select)
    cols = ", ".join(f'{c.sql} AS {quote_ident(n)}' for n, c in compiled)
    sql = f"SELECT {cols} FROM {quote_ident(source.name)}"
    if where is not None:
        sql += f" WHERE ({where.sql}) IS TRUE"
    if select.limit is not None:
        sql += f" LIMIT {select.limit}"
    cursor = engine.db.cursor()
    try:
        rows = [list(r) for r in cursor.sql(sql).fetchall()]
    except Exception as err:  # a table that was never materialised, or a DuckDB type error
        raise KsqlStatementError(f"Pull query failed on {source.name}: {err}") from err
    finally:
        cursor.close()
    keys = {c.name for c in source.key_columns} | ({"WINDOWSTART", "WINDOWEND"} if source.window else set())
    key_out = {i.name for i in items if column_name(i.expr) in keys and not i.aliased}
    return RowsResult(text, [(n, c.type) for n, c in compiled], rows, key_names=key_out)


def _check_pseudo_columns(nodes: list[exp.Expression], clause: str) -> None:
    bad = [n for node in nodes for n in (column_name(c) for c in node.find_all(exp.Column))
           if n in (ROWPARTITION, ROWOFFSET)]
    if bad:
        raise KsqlStatementError(f"Pull queries don't support the following columns in {clause} clauses: `{bad[0]}`")


def _check_table_scan(engine: Engine, source: Source, select: st.Select) -> None:
    """Without table scans, a pull query must look keys up by equality (ksqlDB's rule)."""
    if engine.properties.get("ksql.query.pull.table.scan.enabled", "true").lower() != "false":
        return
    keys = {c.name for c in source.key_columns}
    lookups: tuple[type[exp.Expression], ...] = (exp.EQ, exp.In)
    if engine.properties.get("ksql.query.pull.range.scan.enabled", "true").lower() != "false":
        lookups += (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
    eq_keys: set[str] = set()
    if select.where is not None:
        for node in select.where.find_all(*lookups):
            name = column_name(node.this)
            if name in keys:
                eq_keys.add(name)
    if eq_keys != keys:
        raise KsqlStatementError("Query requires table scan to be enabled. Table scans can be enabled by setting "
                                 "ksql.query.pull.table.scan.enabled=true")
