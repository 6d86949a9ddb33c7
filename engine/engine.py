"""The engine's one API: ``Engine.execute(sql) -> results``; the CLI and server use only this.

An engine owns a topic store (embedded log or Kafka), a catalog, a DuckDB connection for
evaluation and state, and the persistent queries. Queries advance when ``run_until_idle`` is
called (tests, scripts) or continuously on a background thread (``start``/``stop``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

import parser as sqlparser
from engine import types
from engine.catalog import Catalog
from engine.duck import EngineDatabase
from engine.errors import KsqlError, KsqlStatementError
from engine.expressions import ExpressionError
from engine.handlers import admin, queries, sources, transient, values
from engine.results import RowsResult, StatementResult
from engine.runtime.commands import CommandLog
from engine.runtime.processing_log import ProcessingLog
from engine.runtime.push import PushQuery
from engine.runtime.query import RunningQuery
from engine.topics.base import TopicError, TopicStore
from engine.topics.embedded import EmbeddedStore
from parser import statements as st

Result = StatementResult | RowsResult
log = logging.getLogger("streamsql.engine")

DEFAULT_PROPERTIES: dict[str, str] = {
    "ksql.service.id": "default_",
    "ksql.persistence.default.format.key": "KAFKA",
    "ksql.query.pull.table.scan.enabled": "true",
    "ksql.streams.auto.offset.reset": "earliest",
    "ksql.query.persistent.active.limit": "2147483647",
}


class Engine:
    """A streamsql engine instance.

    Args:
        store: the topic backend; default an embedded log in ``data_dir`` (in memory if None).
        data_dir: where the embedded log, the catalog's command log and state live.
        properties: ksqlDB properties (``ksql.*``) overriding the defaults.
        auto_create_topics: create missing source topics (the test runner's behaviour) instead
            of failing like ksqlDB does when no PARTITIONS are given.
    """

    def __init__(self, store: TopicStore | None = None, *, data_dir: str | Path | None = None,
                 properties: dict[str, str] | None = None, auto_create_topics: bool = False) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else None
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        if store is None:
            store = EmbeddedStore(self.data_dir / "topics" if self.data_dir else None)
        self.store = store
        self.catalog = Catalog()
        self.properties: dict[str, str] = {**DEFAULT_PROPERTIES, **(properties or {})}
        self.variables: dict[str, str] = {}
        self.auto_create_topics = auto_create_topics
        self.db = EngineDatabase(self.data_dir / "state.duckdb" if self.data_dir else None)
        self.running: dict[str, RunningQuery] = {}
        self.lock = threading.RLock()
        self.processing_log = ProcessingLog(self)
        self.commands = CommandLog(self.data_dir / "commands.jsonl" if self.data_dir else None)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._handlers: dict[type, Callable[[Engine, Any, str], Result]] = {
            st.CreateSource: sources.create_source,
            st.CreateAsSelect: queries.create_as_select,
            st.InsertInto: queries.insert_into,
            st.InsertValues: values.insert_values,
            st.Query: transient.run_query,
            st.Drop: sources.drop_source,
            st.CreateType: sources.create_type,
            st.DropType: sources.drop_type,
            st.AlterSource: sources.alter_source,
            st.Show: admin.show,
            st.Describe: admin.describe,
            st.Explain: admin.explain,
            st.Terminate: admin.terminate,
            st.PauseResume: admin.pause_resume,
            st.SetProperty: admin.set_property,
            st.UnsetProperty: admin.unset_property,
            st.Define: admin.define,
            st.Undefine: admin.undefine,
            st.Print: admin.print_topic,
            st.RunScript: admin.run_script,
            st.ConnectorStatement: admin.connector,
            st.AssertTopic: admin.assert_topic,
            st.AssertSchema: admin.assert_schema,
        }
        self.commands.replay(self)

    # -- statements -------------------------------------------------------------------------

    def execute(self, sql: str) -> list[Result]:
        """Parse and run every statement of ``sql`` in order; stops at the first error (raised)."""
        results: list[Result] = []
        for parsed in sqlparser.parse_with_source(sql, self.variables):
            results.append(self.execute_statement(parsed.statement, parsed.text))
        return results

    def execute_statement(self, statement: st.Statement, text: str) -> Result:
        """Run one parsed statement."""
        handler = self._handlers.get(type(statement))
        if handler is None:
            raise KsqlStatementError(f"Statement not supported: {type(statement).__name__}", text)
        with self.lock:
            try:
                result = handler(self, statement, text)
            except ExpressionError as err:
                raise KsqlStatementError(str(err), text) from err
            except KsqlError as err:
                err.statement_text = err.statement_text or text
                raise
        self._wake.set()
        return result

    def query(self, sql: str) -> RowsResult:
        """Ad hoc query: a ksqlDB pull (or finite push) query, or — beyond ksqlDB — any DuckDB SQL
        over the materialised tables (joins between tables, ORDER BY, window functions,
        percentiles, ``COPY (...) TO 'file.parquet'``).

        ksqlDB's own semantics win when the text is a query ksqlDB accepts; otherwise the text
        runs as DuckDB SQL against this engine's database, read under the engine lock.
        """
        ksql_error: Exception | None = None
        try:
            parsed = sqlparser.parse_with_source(sql, self.variables)
        except sqlparser.ParseError as err:
            parsed, ksql_error = [], err
        if len(parsed) == 1 and isinstance(parsed[0].statement, st.Query):
            try:
                result = self.execute_statement(parsed[0].statement, parsed[0].text)
                assert isinstance(result, RowsResult)
                return result
            except KsqlError as err:
                ksql_error = err
        try:
            return self._duckdb_query(sql)
        except duckdb.Error as err:
            if ksql_error is not None and parsed:
                raise ksql_error from err
            raise KsqlStatementError(f"{err}", sql) from err

    def _duckdb_query(self, sql: str) -> RowsResult:
        with self.lock:
            cursor = self.db.cursor()
            try:
                relation = cursor.sql(sql)
                if relation is None:  # COPY, SET, ... : statements without a result set
                    return RowsResult(sql, [])
                table = relation.to_arrow_table()
            finally:
                cursor.close()
        columns = [(f.name, types.from_arrow(f.type)) for f in table.schema]
        return RowsResult(sql, columns, [list(r.values()) for r in table.to_pylist()])

    def push_query(self, sql: str) -> PushQuery:
        """Start a push query (``SELECT ... EMIT CHANGES``) whose rows stream to the handle."""
        parsed = sqlparser.parse_with_source(sql, self.variables)
        if len(parsed) != 1 or not isinstance(parsed[0].statement, st.Query):
            raise KsqlStatementError("push_query expects exactly one SELECT statement", sql)
        with self.lock:
            try:
                push = transient.start_push_query(self, parsed[0].statement, parsed[0].text)
            except ExpressionError as err:
                raise KsqlStatementError(str(err), sql) from err
        self._wake.set()
        return push

    def is_running(self) -> bool:
        """True while the background runtime thread runs queries."""
        return self._thread is not None

    # -- running queries --------------------------------------------------------------------

    def add_query(self, query: RunningQuery) -> None:
        """Register a persistent query and let the runtime pick it up."""
        query.max_records = int(self.properties.get("ksql.streams.max.poll.records", query.max_records))
        self.running[query.info.id] = query
        self.catalog.queries[query.info.id] = query.info
        self._wake.set()

    def remove_query(self, query_id: str) -> None:
        """Stop and forget a persistent query (TERMINATE)."""
        self.running.pop(query_id, None)
        self.catalog.queries.pop(query_id, None)

    def run_once(self) -> int:
        """One step of every running query; returns the records processed."""
        with self.lock:
            return sum(q.step() for q in list(self.running.values()))

    def run_until_idle(self, max_rounds: int = 100_000) -> int:
        """Step all queries until none has input left; returns the records processed."""
        total = 0
        for _ in range(max_rounds):
            n = self.run_once()
            if n == 0:
                break
            total += n
        return total

    def start(self, idle_wait: float = 0.05) -> None:
        """Run queries continuously on a background thread until ``stop``."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            backoff = 1.0
            while not self._stop.is_set():
                try:
                    processed = self.run_once()
                    backoff = 1.0
                except TopicError as err:
                    # A broker outage longer than the store's own retries: the failed batch was
                    # rewound, so wait and try again rather than let the runtime thread die.
                    log.warning("topic backend unavailable (%s); retrying in %.0f s", err, backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
                if processed == 0:
                    self._wake.wait(idle_wait)
                    self._wake.clear()

        self._thread = threading.Thread(target=loop, name="streamsql-runtime", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background runtime thread (after its current step commits)."""
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._thread = None

    def close(self) -> None:
        """Stop running and release the store and DuckDB."""
        self.stop()
        self.store.close()
        self.db.close()
