"""SHOW, DESCRIBE, EXPLAIN, TERMINATE, PAUSE/RESUME, SET/UNSET, DEFINE/UNDEFINE, PRINT, RUN SCRIPT."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.catalog import Source
from engine.errors import KsqlStatementError
from engine.expressions import all_functions, get_function
from engine.planner.explain import explain as explain_plan
from engine.planner.join import JoinPlan
from engine.results import StatementResult
from engine.topics.base import Topic
from parser import statements as st

if TYPE_CHECKING:
    from engine.engine import Engine


def source_description(engine: Engine, source: Source, extended: bool) -> dict[str, Any]:
    """ksqlDB's SourceDescription entity for DESCRIBE."""
    fields = [{"name": "ROWTIME", "schema": {"type": "BIGINT"}}] if extended else []
    for col in source.columns:
        entry: dict[str, Any] = {"name": col.name, "schema": {"type": col.type.base}}
        if col.namespace == "KEY":
            entry["type"] = "PRIMARY_KEY" if source.kind == "TABLE" else "KEY"
        elif col.namespace == "HEADERS":
            entry["type"] = "HEADER"
        entry["schema"]["fullType"] = col.type.sql()
        fields.append(entry)
    queries = [q for q in engine.catalog.queries.values() if source.name in q.sources]
    writers = [q for q in engine.catalog.queries.values() if q.sink == source.name]
    running = engine.running.get(source.is_sink_of or "")
    return {
        "name": source.name, "type": source.kind, "topic": source.topic,
        "keyFormat": source.key_format, "valueFormat": source.value_format,
        "timestamp": source.timestamp_column or "", "windowType": source.window.kind if source.window else None,
        "fields": fields, "statement": source.sql, "partitions": source.partitions,
        "readQueries": [{"id": q.id, "queryString": q.sql} for q in queries],
        "writeQueries": [{"id": q.id, "queryString": q.sql} for q in writers],
        "statistics": (f"records-in: {running.stats.records_in}, records-out: {running.stats.records_out}, "
                       f"errors: {running.stats.errors}") if running and extended else "",
        "schemaText": source.schema_text(),
    }


def _source_list(engine: Engine, kind: str, extended: bool) -> list[dict[str, Any]]:
    out = []
    for src in sorted(engine.catalog.sources.values(), key=lambda s: s.name):
        if src.kind != kind:
            continue
        if extended:
            out.append(source_description(engine, src, True))
        else:
            out.append({"name": src.name, "topic": src.topic, "keyFormat": src.key_format,
                        "valueFormat": src.value_format, "isWindowed": src.window is not None,
                        "type": src.kind})
    return out


def show(engine: Engine, stmt: st.Show, text: str) -> StatementResult:
    """SHOW|LIST STREAMS|TABLES|QUERIES|TOPICS|FUNCTIONS|TYPES|PROPERTIES|VARIABLES."""
    what = stmt.what
    if what in ("STREAMS", "TABLES"):
        kind = what[:-1]
        entity = "sourceDescriptions" if stmt.extended else what.lower()
        return StatementResult(text, entity, data=_source_list(engine, kind, stmt.extended))
    if what == "QUERIES":
        data = [{"id": q.id, "queryString": q.sql, "sinks": [q.sink] if q.sink else [], "state": q.state,
                 "queryType": "PERSISTENT"} for q in engine.catalog.queries.values()]
        return StatementResult(text, "queries", data=data)
    if what == "TOPICS":
        topics: list[dict[str, Any]] = []
        for name in engine.store.list_topics():
            if not stmt.all_topics and name.startswith("_"):
                continue
            topic = engine.store.topic(name)
            topics.append({"name": name, "replicaInfo": [1] * (topic.partitions if topic else 1)})
        return StatementResult(text, "kafka_topics", data=topics)
    if what == "FUNCTIONS":
        data = [{"name": f.name, "type": f.kind.upper(), "category": f.category}
                for f in sorted(all_functions(), key=lambda f: f.name)]
        return StatementResult(text, "function_names", data=data)
    if what == "TYPES":
        return StatementResult(text, "type_list", data={n: t.sql() for n, t in sorted(engine.catalog.types.items())})
    if what == "PROPERTIES":
        return StatementResult(text, "properties", data=dict(sorted(engine.properties.items())))
    if what == "VARIABLES":
        return StatementResult(text, "variables", data=dict(sorted(engine.variables.items())))
    raise KsqlStatementError(f"SHOW {what} is not supported: streamsql has no Kafka Connect integration.")


def describe(engine: Engine, stmt: st.Describe, text: str) -> StatementResult:
    """DESCRIBE source [EXTENDED], DESCRIBE STREAMS|TABLES, DESCRIBE FUNCTION."""
    if stmt.target == "FUNCTION":
        fn = get_function((stmt.name or "").upper())
        if fn is None:
            raise KsqlStatementError(f"Can't find any functions with the name '{stmt.name}'")
        data = {"name": fn.name, "type": fn.kind.upper(), "category": fn.category,
                "description": fn.description, "functions": fn.describe()}
        return StatementResult(text, "describe_function", data=data)
    if stmt.target in ("STREAMS", "TABLES"):
        return StatementResult(text, "sourceDescriptions", data=_source_list(engine, stmt.target[:-1], True))
    if stmt.target == "CONNECTOR":
        raise KsqlStatementError("Connectors are not supported: streamsql has no Kafka Connect integration.")
    source = engine.catalog.source(stmt.name or "")
    if source is None:
        raise KsqlStatementError(f"Could not find STREAM/TABLE '{stmt.name}' in the Metastore")
    return StatementResult(text, "sourceDescription", data=source_description(engine, source, stmt.extended))


def explain(engine: Engine, stmt: st.Explain, text: str) -> StatementResult:
    """EXPLAIN query-id or EXPLAIN statement: the query's SQL, sources, sink and plan."""
    if stmt.query_id is not None:
        info = engine.catalog.queries.get(stmt.query_id)
        if info is None:
            raise KsqlStatementError(f"Query with id:{stmt.query_id} does not exist, use SHOW QUERIES to view "
                                     f"the full set of queries.")
        return StatementResult(text, "queryDescription",
                               data={"id": info.id, "statementText": info.sql, "sources": info.sources,
                                     "sinks": [info.sink] if info.sink else [], "executionPlan": info.plan,
                                     "state": info.state})
    inner = stmt.statement
    select = getattr(inner, "select", None)
    if select is None:
        raise KsqlStatementError("EXPLAIN is only supported for queries and CREATE ... AS SELECT / INSERT INTO.")
    from engine.handlers.queries import plan_query, single_source
    source = single_source(engine, select)
    plan = plan_query(engine, select, source, persistent=False)
    text_plan = explain_plan(plan, source)
    return StatementResult(text, "queryDescription",
                           data={"statementText": inner.sql() if inner else text,
                                 "sources": [leaf.source.name for leaf in plan.tree.leaves]
                                 if isinstance(plan, JoinPlan) else [source.name],
                                 "executionPlan": text_plan})


def terminate(engine: Engine, stmt: st.Terminate, text: str) -> StatementResult:
    """TERMINATE id | ALL."""
    ids = list(engine.catalog.queries) if stmt.query_id is None else [stmt.query_id]
    for qid in ids:
        if qid not in engine.catalog.queries:
            raise KsqlStatementError(f"Unknown queryId: {qid}")
        info = engine.catalog.queries[qid]
        sink = engine.catalog.source(info.sink or "")
        if sink is not None and sink.is_sink_of == qid:
            sink.is_sink_of = None
        engine.remove_query(qid)
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", "Query terminated.")


def pause_resume(engine: Engine, stmt: st.PauseResume, text: str) -> StatementResult:
    """PAUSE / RESUME id | ALL."""
    ids = list(engine.catalog.queries) if stmt.query_id is None else [stmt.query_id]
    for qid in ids:
        info = engine.catalog.queries.get(qid)
        if info is None:
            raise KsqlStatementError(f"Unknown queryId: {qid}")
        info.state = "PAUSED" if stmt.action == "PAUSE" else "RUNNING"
    engine.commands.append(stmt, text)
    return StatementResult(text, "currentStatus", f"Query {'paused' if stmt.action == 'PAUSE' else 'resumed'}.")


def set_property(engine: Engine, stmt: st.SetProperty, text: str) -> StatementResult:
    """SET 'name' = 'value'."""
    engine.properties[stmt.name] = stmt.value
    return StatementResult(text, "currentStatus", f"Successfully changed local property '{stmt.name}' to '{stmt.value}'.")


def unset_property(engine: Engine, stmt: st.UnsetProperty, text: str) -> StatementResult:
    """UNSET 'name'."""
    engine.properties.pop(stmt.name, None)
    return StatementResult(text, "currentStatus", f"Successfully unset local property '{stmt.name}'.")


def define(engine: Engine, stmt: st.Define, text: str) -> StatementResult:
    """DEFINE name = 'value'."""
    engine.variables[stmt.name] = stmt.value
    return StatementResult(text, "currentStatus", f"Defined variable {stmt.name}")


def undefine(engine: Engine, stmt: st.Undefine, text: str) -> StatementResult:
    """UNDEFINE name."""
    engine.variables.pop(stmt.name, None)
    return StatementResult(text, "currentStatus", f"Undefined variable {stmt.name}")


def print_topic(engine: Engine, stmt: st.Print, text: str) -> StatementResult:
    """PRINT topic [FROM BEGINNING] [LIMIT n]: the records now in the topic, as text lines."""
    from engine.runtime.printer import print_records
    return StatementResult(text, "print", data=print_records(engine, stmt))


def run_script(engine: Engine, stmt: st.RunScript, text: str) -> StatementResult:
    """RUN SCRIPT 'file': execute every statement of the file."""
    path = Path(stmt.path)
    if not path.exists():
        raise KsqlStatementError(f"Failed to read file: {stmt.path}")
    results = engine.execute(path.read_text(encoding="utf-8"))
    return StatementResult(text, "currentStatus", f"Executed {len(results)} statements from {stmt.path}",
                           data=results)


def connector(engine: Engine, stmt: st.ConnectorStatement, text: str) -> StatementResult:
    """Connector statements parse, but streamsql has no Kafka Connect to run them on."""
    raise KsqlStatementError("Connector statements are not supported: streamsql has no Kafka Connect "
                             "integration. Use a Kafka Connect cluster next to your broker instead.")



def assert_topic(engine: Engine, stmt: st.AssertTopic, text: str) -> StatementResult:
    """ASSERT [NOT EXISTS] TOPIC name [WITH (PARTITIONS=n)] [TIMEOUT t]: wait up to the timeout
    (ksqlDB's default: 1 second) for the topic to (not) exist with the given partition count."""
    deadline = time.monotonic() + (stmt.timeout_ms if stmt.timeout_ms is not None else 1000) / 1000
    want = stmt.properties.get("PARTITIONS")
    while True:
        topic = _find_topic(engine, stmt.topic)
        ok = (topic is not None and (want is None or topic.partitions == int(want))) if stmt.exists else topic is None
        if ok or time.monotonic() >= deadline:
            break
        time.sleep(0.05)  # polling a topic store that has no change notification
    if not ok:
        if not stmt.exists:
            raise KsqlStatementError(f"Topic {stmt.topic} exists")
        if topic is None:
            raise KsqlStatementError(f"Topic {stmt.topic} does not exist")
        raise KsqlStatementError(f"Mismatched configuration for topic {stmt.topic}: For config partitions, "
                                 f"expected {want} got {topic.partitions}")
    return StatementResult(text, "assertTopic", f"Topic {stmt.topic} {'exists' if stmt.exists else 'does not exist'}",
                           data={"topicName": stmt.topic, "exists": stmt.exists})


def _find_topic(engine: Engine, name: str) -> Topic | None:
    """The topic ``name``, or the one topic matching it case-insensitively (unquoted identifiers
    arrive upper-cased, while topic names are case-sensitive)."""
    topic = engine.store.topic(name)
    if topic is not None:
        return topic
    matches = [t for t in engine.store.list_topics() if t.lower() == name.lower()]
    return engine.store.topic(matches[0]) if len(matches) == 1 else None


def assert_schema(engine: Engine, stmt: st.AssertSchema, text: str) -> StatementResult:
    """ASSERT SCHEMA needs a Schema Registry, which streamsql does not connect to."""
    raise KsqlStatementError("Cannot check schema existence: no Schema Registry is configured "
                             "(streamsql's formats do not use one).")
