"""CREATE STREAM/TABLE, DROP, ALTER and CREATE/DROP TYPE."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.catalog import Column, QueryInfo, Source, kind_word
from engine.ddl import check_column_name, source_from_create
from engine.errors import KsqlStatementError
from engine.operators.materialize import TableMaterializer
from engine.results import StatementResult
from engine.runtime.query import RunningQuery
from engine.runtime.reader import TopicReader
from engine.topics.base import TopicConfig
from engine.validation import check_formats
from parser import statements as st

if TYPE_CHECKING:
    from engine.engine import Engine


def ensure_topic(engine: Engine, source: Source, props: dict[str, object]) -> None:
    """Find the source's topic, or create it when PARTITIONS is given (ksqlDB's rule)."""
    topic = engine.store.topic(source.topic)
    if topic is not None:
        source.partitions = topic.partitions
        return
    if "PARTITIONS" not in props and not engine.auto_create_topics:
        raise KsqlStatementError(
            f"Topic '{source.topic}' does not exist. If you want to create a new topic for the "
            f"{kind_word(source.kind)} please re-run the statement providing the required 'PARTITIONS' "
            f"configuration in the WITH clause (and optionally 'REPLICAS'). For example: "
            f"CREATE {source.kind} {source.name} WITH (KAFKA_TOPIC='{source.topic}', PARTITIONS=2, ...);")
    partitions = int(props.get("PARTITIONS", 1) or 1)  # type: ignore[call-overload]
    replicas = int(props.get("REPLICAS", 1) or 1)  # type: ignore[call-overload]
    engine.store.create_topic(TopicConfig(source.topic, partitions, replicas, compacted=source.kind == "TABLE"))
    source.partitions = partitions


def _check_replace(engine: Engine, stmt: st.CreateSource, text: str) -> Source | None:
    existing = engine.catalog.source(stmt.name)
    if existing is None:
        return None
    if stmt.if_not_exists:
        return existing
    if stmt.or_replace:
        if stmt.source or existing.read_only:
            raise KsqlStatementError(f"Cannot add {kind_word(stmt.kind)} '{stmt.name}': CREATE OR REPLACE "
                                     f"is not supported on source {kind_word(stmt.kind)}s.")
        if existing.kind != stmt.kind:
            raise KsqlStatementError(f"Cannot add {kind_word(stmt.kind)} '{stmt.name}': A "
                                     f"{kind_word(existing.kind)} with the same name already exists")
        return None
    raise KsqlStatementError(f"Cannot add {kind_word(stmt.kind)} '{stmt.name}': A "
                             f"{kind_word(existing.kind)} with the same name already exists")


def create_source(engine: Engine, stmt: st.CreateSource, text: str) -> StatementResult:
    """CREATE [OR REPLACE] [SOURCE] STREAM|TABLE."""
    existing = _check_replace(engine, stmt, text)
    if existing is not None:
        return StatementResult(text, "currentStatus", f"{kind_word(stmt.kind).title()} already exists.")
    source = source_from_create(stmt, engine.catalog, text, engine.properties)
    check_formats(source)
    ensure_topic(engine, source, stmt.properties)
    engine.catalog.sources[source.name] = source
    if source.kind == "TABLE":
        _materialize(engine, source)
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", f"{kind_word(stmt.kind).title()} created")


def materialize_id(name: str) -> str:
    """The internal query that keeps a source table materialised for pull queries."""
    return f"__MATERIALIZE_{name}"


def _materialize(engine: Engine, source: Source) -> None:
    topic = engine.store.topic(source.topic)
    if topic is None:
        return
    query_id = materialize_id(source.name)
    processor = TableMaterializer(engine, query_id, source)
    reader = TopicReader(engine.store, topic, f"_streamsql-{query_id}")
    reader.seek(processor.initial_positions(topic.name))
    engine.running[query_id] = RunningQuery(QueryInfo(query_id, source.sql, None, [source.name]), [reader],
                                            processor, None)


def drop_source(engine: Engine, stmt: st.Drop, text: str) -> StatementResult:
    """DROP STREAM|TABLE [IF EXISTS] name [DELETE TOPIC]."""
    source = engine.catalog.source(stmt.name)
    if source is None:
        if stmt.if_exists:
            return StatementResult(text, "currentStatus", f"Source `{stmt.name}` does not exist.")
        raise KsqlStatementError(f"Source {stmt.name} does not exist.")
    if source.kind != stmt.kind:
        raise KsqlStatementError(f"Incompatible data source type is {source.kind}, but statement was DROP {stmt.kind}")
    if stmt.delete_topic and source.read_only:
        raise KsqlStatementError(f"Cannot delete topic for read-only source: {source.name}")
    users = [q.id for q in engine.catalog.queries.values()
             if q.sink == source.name or source.name in q.sources]
    if users:
        raise KsqlStatementError(
            f"Cannot drop {source.name}.\nThe following queries read from this source: "
            f"[{', '.join(q for q in users if source.name in engine.catalog.queries[q].sources)}].\n"
            f"The following queries write into this source: "
            f"[{', '.join(q for q in users if engine.catalog.queries[q].sink == source.name)}].\n"
            f"You need to terminate them before dropping {source.name}.")
    del engine.catalog.sources[source.name]
    internal = engine.running.pop(materialize_id(source.name), None)
    if internal is not None:
        internal.processor.drop_state()  # type: ignore[attr-defined]
    if stmt.delete_topic:
        engine.store.delete_topic(source.topic)
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", f"Source `{source.name}` (topic: {source.topic}) was dropped.")


def create_type(engine: Engine, stmt: st.CreateType, text: str) -> StatementResult:
    """CREATE TYPE name AS type."""
    if stmt.name in engine.catalog.types:
        if stmt.if_not_exists:
            return StatementResult(text, "currentStatus", f"Type {stmt.name} already exists")
        raise KsqlStatementError(f"Cannot register custom type '{stmt.name}' since it is already registered "
                                 f"with type: {engine.catalog.types[stmt.name].sql()}")
    engine.catalog.types[stmt.name] = engine.catalog.resolve_type(stmt.type)
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", f"Registered custom type with name '{stmt.name}' and SQL type "
                           f"{engine.catalog.types[stmt.name].sql()}")


def drop_type(engine: Engine, stmt: st.DropType, text: str) -> StatementResult:
    """DROP TYPE [IF EXISTS] name."""
    if stmt.name not in engine.catalog.types:
        if stmt.if_exists:
            return StatementResult(text, "currentStatus", f"Type {stmt.name} does not exist.")
        raise KsqlStatementError(f"Type {stmt.name} does not exist.")
    del engine.catalog.types[stmt.name]
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", f"Dropped type '{stmt.name}'")


def alter_source(engine: Engine, stmt: st.AlterSource, text: str) -> StatementResult:
    """ALTER STREAM|TABLE name ADD COLUMN ... (value columns only, as ksqlDB)."""
    source = engine.catalog.require(stmt.name)
    if source.kind != stmt.kind:
        raise KsqlStatementError(f"Incompatible data source type is {source.kind.lower()}, "
                                 f"but statement was ALTER {stmt.kind}")
    if source.is_sink_of is not None:
        raise KsqlStatementError("ALTER command is not supported for CREATE ... AS statements.")
    for col in stmt.add_columns:
        check_column_name(col.name)
        if source.column(col.name) is not None:
            raise KsqlStatementError(f"Cannot add column `{col.name}` to schema. A column with the same name "
                                     f"already exists.")
        if col.key or col.primary_key:
            raise KsqlStatementError("Cannot add a key column with ALTER.")
        source.columns.append(Column(col.name, engine.catalog.resolve_type(col.type)))
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", f"{kind_word(source.kind).title()} {source.name} altered.")
