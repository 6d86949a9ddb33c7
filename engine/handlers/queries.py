"""CREATE STREAM|TABLE AS SELECT and INSERT INTO ... SELECT: persistent queries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.catalog import Column, QueryInfo, Source, WindowInfo, kind_word
from engine.ddl import resolve_formats, split_format_properties
from engine.errors import KsqlStatementError
from engine.operators.aggregate import AggregateProcessor
from engine.operators.join import JoinProcessor
from engine.operators.stateless import StatelessProcessor
from engine.planner.aggregate import AggregatePlan, has_aggregates, plan_aggregate
from engine.planner.explain import explain
from engine.planner.join import JoinPlan, analyze, joined_source, plan_join
from engine.planner.stateless import StatelessPlan, plan_stateless
from engine.results import StatementResult
from engine.runtime.query import Processor, RunningQuery
from engine.runtime.reader import TopicReader
from engine.topics.base import TopicConfig
from engine.validation import check_formats, check_key_types
from parser import statements as st

if TYPE_CHECKING:
    from engine.engine import Engine

Plan = StatelessPlan | AggregatePlan | JoinPlan
# Joins read their inputs in event-time order to within this many records per batch.
JOIN_ORDER_BATCH = "streamsql.join.order.batch.records"


def single_source(engine: Engine, select: st.Select) -> Source:
    """The one source of a join-free select; for a join, the synthetic source of its joined rows."""
    if select.joins:  # joins: engine/planner/join.py
        return joined_source(*analyze(select, engine.catalog))
    source = engine.catalog.source(select.from_.name)
    if source is None:
        raise KsqlStatementError(f"{select.from_.name} does not exist.")
    return source


def is_aggregation(select: st.Select) -> bool:
    """GROUP BY, WINDOW or aggregate calls make an aggregation."""
    return bool(select.group_by) or select.window is not None or has_aggregates(select)


def plan_select(select: st.Select, source: Source, persistent: bool, sink: str | None = None,
                config: dict[str, str] | None = None) -> StatelessPlan | AggregatePlan:
    """The stateless or aggregate plan of a select over one source."""
    if is_aggregation(select):
        return plan_aggregate(select, source, persistent, sink, config)
    return plan_stateless(select, source, persistent, sink_name=sink)


def plan_query(engine: Engine, select: st.Select, source: Source, persistent: bool,
               sink: str | None = None) -> Plan:
    """``plan_select``, or for a select with JOINs the join plan (engine/planner/join.py)."""
    if select.joins:
        return plan_join(select, engine.catalog, persistent, sink, engine.properties)
    return plan_select(select, source, persistent, sink, engine.properties)


def _result_kind(source: Source, select: st.Select) -> str:
    return "TABLE" if source.kind == "TABLE" or is_aggregation(select) else "STREAM"


def _check_sink_absent(engine: Engine, stmt: st.CreateAsSelect) -> None:
    existing = engine.catalog.source(stmt.name)
    if existing is None or stmt.or_replace:
        return
    raise KsqlStatementError(f"Cannot add {kind_word(stmt.kind)} '{stmt.name}': A {kind_word(existing.kind)} "
                             f"with the same name already exists")


def _window_info(plan: Plan, source: Source) -> WindowInfo | None:
    if isinstance(plan, JoinPlan):
        plan = plan.post
    if isinstance(plan, AggregatePlan):
        w = plan.window
        return WindowInfo(w.kind, w.size_ms if w.kind != "SESSION" else None) if w is not None else None
    return source.window


def _sink_formats(engine: Engine, props: dict[str, Any], source: Source, plan: Plan) -> tuple[str, str]:
    key_format, value_format = resolve_formats(props, source.value_format, source.key_format)
    if not plan.key_columns:
        if "KEY_FORMAT" in props:
            raise KsqlStatementError("Key format specified for stream without key columns.")
        return "NONE", value_format
    if key_format == "NONE":
        key_format = engine.properties.get("ksql.persistence.default.format.key", "KAFKA").upper()
    return key_format, value_format


def _sink_source(engine: Engine, stmt: st.CreateAsSelect, source: Source, plan: Plan,
                 query_id: str, text: str) -> Source:
    props: dict[str, Any] = stmt.properties
    key_format, value_format = _sink_formats(engine, props, source, plan)
    key_props, value_props = split_format_properties(props)
    if "VALUE_DELIMITER" not in props and value_format == source.value_format:
        value_props.setdefault("DELIMITER", source.value_properties.get("DELIMITER", ","))
    if "KEY_DELIMITER" not in props and key_format == source.key_format:
        key_props.setdefault("DELIMITER", source.key_properties.get("DELIMITER", ","))
    ts = props.get("TIMESTAMP")
    return Source(
        name=stmt.name, kind=stmt.kind, columns=plan.key_columns + plan.value_columns,
        topic=str(props.get("KAFKA_TOPIC", stmt.name)), key_format=key_format, value_format=value_format,
        key_properties=key_props, value_properties=value_props,
        timestamp_column=str(ts).upper() if ts is not None else None,
        timestamp_format=props.get("TIMESTAMP_FORMAT"), window=_window_info(plan, source), sql=text,
        partitions=int(props.get("PARTITIONS", source.partitions) or source.partitions),
        is_sink_of=query_id,
    )


def group_id(engine: Engine, query_id: str) -> str:
    """The consumer group of a persistent query (ksqlDB's naming)."""
    return f"_confluent-ksql-{engine.properties['ksql.service.id']}query_{query_id}"


def _processor(engine: Engine, query_id: str, plan: Plan, source: Source, sink: Source) -> Processor:
    if isinstance(plan, JoinPlan):
        return JoinProcessor(engine, query_id, plan, sink, view=sink.name)
    if isinstance(plan, AggregatePlan):
        return AggregateProcessor(engine, query_id, plan, sink, view=sink.name)
    return StatelessProcessor(engine, query_id, plan, source, sink, materialize=sink.kind == "TABLE")


def start_query(engine: Engine, query_id: str, text: str, source: Source, sink: Source, plan: Plan) -> None:
    """Create the sink topic and register the running query."""
    topic = engine.store.create_topic(TopicConfig(sink.topic, sink.partitions, compacted=sink.kind == "TABLE"))
    sink.partitions = topic.partitions
    inputs = [leaf.source for leaf in plan.tree.leaves] if isinstance(plan, JoinPlan) else [source]
    src_topics = [engine.store.topic(s.topic) for s in inputs]
    for src, src_topic in zip(inputs, src_topics, strict=True):
        if src_topic is None:
            raise KsqlStatementError(f"Topic '{src.topic}' does not exist.")
    processor = _processor(engine, query_id, plan, source, sink)
    readers = [TopicReader(engine.store, src_topic, group_id(engine, query_id)) for src_topic in src_topics
               if src_topic is not None]
    saved = getattr(processor, "initial_positions", None)
    for reader in readers:
        if saved is not None:
            reader.seek(saved(reader.topic.name))
    info = QueryInfo(query_id, text, sink.name, [s.name for s in inputs], plan=explain(plan, source))
    running = RunningQuery(info, readers, processor, topic)
    running.min_ordered_batch = int(engine.properties.get(JOIN_ORDER_BATCH, "5000"))
    engine.add_query(running)


def create_as_select(engine: Engine, stmt: st.CreateAsSelect, text: str) -> StatementResult:
    """CSAS / CTAS: plan the select, register the sink, start the persistent query."""
    if stmt.select.limit is not None:
        raise KsqlStatementError(f"CREATE {stmt.kind} AS SELECT statements don't support LIMIT clause.")
    source = single_source(engine, stmt.select)
    produced = _result_kind(source, stmt.select)
    if produced != stmt.kind:
        raise KsqlStatementError(f"Invalid result type. Your SELECT query produces a {produced}. Please use "
                                 f"CREATE {produced} AS SELECT statement instead.")
    _check_sink_absent(engine, stmt)
    plan = plan_query(engine, stmt.select, source, persistent=True, sink=stmt.name)
    if not plan.value_columns:
        raise KsqlStatementError("The projection contains no value columns.")
    if stmt.kind == "TABLE" and isinstance(plan, StatelessPlan):
        _check_table_key(source, plan, stmt.name)
    check_key_types(plan.key_columns)
    prefix = "CSAS" if stmt.kind == "STREAM" else "CTAS"
    replaced = engine.catalog.source(stmt.name)
    query_id = replaced.is_sink_of if replaced and replaced.is_sink_of else engine.catalog.next_query_id(prefix, stmt.name)
    sink = _sink_source(engine, stmt, source, plan, query_id, text)
    check_formats(sink)
    if replaced is not None:
        engine.remove_query(query_id)
    engine.catalog.sources[sink.name] = sink
    start_query(engine, query_id, text, source, sink, plan)
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", f"Created query with ID {query_id}", query_id=query_id)


def _check_table_key(source: Source, plan: StatelessPlan, sink: str) -> None:
    missing = [c.name for c in source.key_columns if c.name not in {k.name for k in plan.key_columns}]
    if plan.key_columns or not missing:
        return
    if len(missing) == 1:
        raise KsqlStatementError(f"The query used to build `{sink}` must include the key column {missing[0]} "
                                 f"in its projection (eg, SELECT {missing[0]}...).")
    raise KsqlStatementError(f"The query used to build `{sink}` must include the key columns "
                             f"{', '.join(missing[:-1])} and {missing[-1]} in its projection "
                             f"(eg, SELECT {', '.join(missing)}...).")


def insert_into(engine: Engine, stmt: st.InsertInto, text: str) -> StatementResult:
    """INSERT INTO stream SELECT ...: a persistent query writing into an existing stream."""
    target = engine.catalog.source(stmt.target)
    if target is None:
        raise KsqlStatementError(f"Sink does not exist: {stmt.target}")
    if target.kind == "TABLE":
        raise KsqlStatementError(f"INSERT INTO can only be used to insert into a stream. {target.name} is a table.")
    source = single_source(engine, stmt.select)
    if source.kind == "TABLE" or is_aggregation(stmt.select):
        raise KsqlStatementError(f"Incompatible data sink and query result. Data sink ({target.name}) type is "
                                 f"KSTREAM but select query result is KTABLE.")
    plan: StatelessPlan | JoinPlan = plan_join(stmt.select, engine.catalog, True, target.name, engine.properties) \
        if stmt.select.joins else plan_stateless(stmt.select, source, persistent=True, sink_name=target.name)
    _check_insert_schema(plan, target)
    query_id = engine.catalog.next_query_id("INSERTQUERY", target.name)
    start_query(engine, query_id, text, source, target, plan)
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", f"Created query with ID {query_id}", query_id=query_id)


def _schema_text(columns: list[Column]) -> str:
    return ", ".join(f"`{c.name}` {c.type.sql()}{' KEY' if c.namespace == 'KEY' else ''}" for c in columns)


def _check_insert_schema(plan: StatelessPlan | JoinPlan, target: Source) -> None:
    result = plan.key_columns + plan.value_columns
    expected = target.key_columns + target.value_columns
    same = [(c.name, c.type, c.namespace) for c in result] == [(c.name, c.type, c.namespace) for c in expected]
    if not same:
        raise KsqlStatementError(
            f"Incompatible schema between results and sink.\nResult schema is {_schema_text(result)}\n"
            f"Sink schema is {_schema_text(expected)}")
