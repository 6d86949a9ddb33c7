"""CREATE STREAM|TABLE AS SELECT, INSERT INTO ... SELECT, and transient push/pull queries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.catalog import Column, QueryInfo, Source
from engine.ddl import resolve_formats, split_format_properties
from engine.errors import KsqlStatementError
from engine.operators.stateless import PushProcessor, StatelessProcessor
from engine.planner.stateless import StatelessPlan, plan_stateless
from engine.results import RowsResult, StatementResult
from engine.runtime.push import PushQuery, next_transient_id
from engine.runtime.query import RunningQuery
from engine.runtime.reader import TopicReader
from engine.topics.base import TopicConfig
from engine.validation import check_formats, check_key_types
from parser import statements as st

if TYPE_CHECKING:
    from engine.engine import Engine


def _kind_word(kind: str) -> str:
    return "stream" if kind == "STREAM" else "table"


def _single_source(engine: Engine, select: st.Select) -> Source:
    if select.joins:
        raise KsqlStatementError("JOIN queries are not supported yet.")
    if select.group_by or select.window is not None:
        raise KsqlStatementError("Aggregations are not supported yet.")
    source = engine.catalog.source(select.from_.name)
    if source is None:
        raise KsqlStatementError(f"{select.from_.name} does not exist.")
    return source


def _result_kind(source: Source, select: st.Select) -> str:
    return "TABLE" if source.kind == "TABLE" or select.group_by else "STREAM"


def _check_sink_absent(engine: Engine, stmt: st.CreateAsSelect) -> None:
    existing = engine.catalog.source(stmt.name)
    if existing is None or stmt.or_replace:
        return
    raise KsqlStatementError(f"Cannot add {_kind_word(stmt.kind)} '{stmt.name}': A {_kind_word(existing.kind)} "
                             f"with the same name already exists")


def _sink_source(engine: Engine, stmt: st.CreateAsSelect, source: Source, plan: StatelessPlan,
                 query_id: str, text: str) -> Source:
    props: dict[str, Any] = stmt.properties
    key_format, value_format = resolve_formats(props, source.value_format, source.key_format)
    if not plan.key_columns:
        if "KEY_FORMAT" in props:
            raise KsqlStatementError("Key format specified for stream without key columns.")
        key_format = "NONE"
    elif key_format == "NONE":
        key_format = engine.properties.get("ksql.persistence.default.format.key", "KAFKA").upper()
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
        timestamp_format=props.get("TIMESTAMP_FORMAT"), window=source.window, sql=text,
        partitions=int(props.get("PARTITIONS", source.partitions) or source.partitions),
        is_sink_of=query_id,
    )


def _start(engine: Engine, query_id: str, text: str, source: Source, sink: Source,
           plan: StatelessPlan) -> None:
    topic = engine.store.create_topic(TopicConfig(sink.topic, sink.partitions, compacted=sink.kind == "TABLE"))
    sink.partitions = topic.partitions
    info = QueryInfo(query_id, text, sink.name, [source.name])
    group = f"_confluent-ksql-{engine.properties['ksql.service.id']}query_{query_id}"
    src_topic = engine.store.topic(source.topic)
    if src_topic is None:
        raise KsqlStatementError(f"Topic '{source.topic}' does not exist.")
    reader = TopicReader(engine.store, src_topic, group)
    processor = StatelessProcessor(engine, query_id, plan, source, sink)
    engine.add_query(RunningQuery(info, [reader], processor, topic))


def create_as_select(engine: Engine, stmt: st.CreateAsSelect, text: str) -> StatementResult:
    """CSAS / CTAS: plan the select, register the sink, start the persistent query."""
    source = _single_source(engine, stmt.select)
    produced = _result_kind(source, stmt.select)
    if produced != stmt.kind:
        raise KsqlStatementError(f"Invalid result type. Your SELECT query produces a {produced}. Please use "
                                 f"CREATE {produced} AS SELECT statement instead.")
    _check_sink_absent(engine, stmt)
    plan = plan_stateless(stmt.select, source, persistent=True, sink_name=stmt.name)
    if not plan.value_columns:
        raise KsqlStatementError("The projection contains no value columns.")
    if stmt.kind == "TABLE":
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
    _start(engine, query_id, text, source, sink, plan)
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
    source = _single_source(engine, stmt.select)
    if source.kind == "TABLE":
        raise KsqlStatementError(f"Incompatible data sink and query result. Data sink ({target.name}) type is "
                                 f"KSTREAM but select query result is KTABLE.")
    plan = plan_stateless(stmt.select, source, persistent=True, sink_name=target.name)
    _check_insert_schema(plan, target)
    query_id = engine.catalog.next_query_id("INSERTQUERY", target.name)
    _start(engine, query_id, text, source, target, plan)
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", f"Created query with ID {query_id}", query_id=query_id)


def _schema_text(columns: list[Column]) -> str:
    return ", ".join(f"`{c.name}` {c.type.sql()}{' KEY' if c.namespace == 'KEY' else ''}" for c in columns)


def _check_insert_schema(plan: StatelessPlan, target: Source) -> None:
    result = plan.key_columns + plan.value_columns
    expected = target.key_columns + target.value_columns
    same = [(c.name, c.type, c.namespace) for c in result] == [(c.name, c.type, c.namespace) for c in expected]
    if not same:
        raise KsqlStatementError(
            f"Incompatible schema between results and sink.\nResult schema is {_schema_text(result)}\n"
            f"Sink schema is {_schema_text(expected)}")


def start_push_query(engine: Engine, stmt: st.Query, text: str) -> PushQuery:
    """Start a transient push query whose rows stream to the returned handle."""
    source = _single_source(engine, stmt.select)
    plan = plan_stateless(stmt.select, source, persistent=False)
    columns = {c.name: c for c in plan.key_columns + plan.value_columns}
    ordered = [(columns[n].name, columns[n].type) for n in plan.select_order if n in columns]
    info = QueryInfo(next_transient_id(), text, None, [source.name])
    push = PushQuery(engine, info, ordered, stmt.select.limit)
    topic = engine.store.topic(source.topic)
    if topic is None:
        raise KsqlStatementError(f"Topic '{source.topic}' does not exist.")
    earliest = engine.properties.get("ksql.streams.auto.offset.reset", "earliest") == "earliest"
    reader = TopicReader(engine.store, topic, f"__{info.id}", from_beginning=earliest)
    processor = PushProcessor(engine, info.id, plan, source, push)
    engine.running[info.id] = RunningQuery(info, [reader], processor, None)
    return push


def run_query(engine: Engine, stmt: st.Query, text: str) -> RowsResult:
    """A transient query: runs over the data present now and returns its rows.

    Push queries (EMIT CHANGES) read from the beginning under ``auto.offset.reset=earliest`` and
    stop when the input is drained or LIMIT rows were produced; pull queries read current state.
    """
    from engine.runtime.transient import run_transient

    source = _single_source(engine, stmt.select)
    return run_transient(engine, stmt, text, source)
