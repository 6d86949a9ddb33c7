"""The query endpoints: /query (ksqlDB's v1 chunked array), /query-stream (delimited or JSON),
/close-query and /inserts-stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import parser as sqlparser
from cli import entities as ent
from cli.adhoc import Dialect, run_query_sql
from cli.jsonout import dumps
from cli.literals import insert_statement
from cli.server_handler import BadRequest
from engine.errors import KsqlError
from engine.results import RowsResult
from engine.runtime.push import PushQuery
from parser import statements as st

if TYPE_CHECKING:
    from cli.server_handler import Handler

DELIMITED = "application/vnd.ksqlapi.delimited.v1"
POLL_SECONDS = 0.25


class Writer:
    """How one response format writes a header, rows and its end."""

    def __init__(self, header: Callable[[str | None, list[tuple[str, str]], str | None], bytes],
                 row: Callable[[list[Any], bool], bytes], end: Callable[[str | None], bytes]) -> None:
        self.header = header
        self.row = row
        self.end = end


def _stream_writer(as_json: bool) -> Writer:
    """/query-stream: a header object then arrays, newline-delimited or as one JSON array."""
    def header(qid: str | None, cols: list[tuple[str, str]], schema: str | None) -> bytes:
        head = {"queryId": qid, "columnNames": [n for n, _ in cols], "columnTypes": [t for _, t in cols]}
        return (("[" if as_json else "") + dumps(head) + ("" if as_json else "\n")).encode()

    def row(values: list[Any], first: bool) -> bytes:
        return (("," if as_json else "") + dumps(values) + ("" if as_json else "\n")).encode()

    def end(final: str | None) -> bytes:
        return b"]" if as_json else b""
    return Writer(header, row, end)


def _v1_writer() -> Writer:
    """/query: ``[{"header"}, {"row": {"columns"}} ..., {"finalMessage"}]`` one object per line."""
    def header(qid: str | None, cols: list[tuple[str, str]], schema: str | None) -> bytes:
        return ("[" + dumps({"header": {"queryId": qid, "schema": schema or ent.schema_text(cols)}})).encode()

    def row(values: list[Any], first: bool) -> bytes:
        return (",\n" + dumps({"row": {"columns": values}})).encode()

    def end(final: str | None) -> bytes:
        return ((",\n" + dumps({"finalMessage": final}) if final else "") + "]\n").encode()
    return Writer(header, row, end)


def _request(handler: Handler, sql_key: str) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
    body = handler.json_body()
    sql = body.get(sql_key) or body.get("sql") or body.get("ksql")
    if not isinstance(sql, str):
        raise BadRequest(f"The request must have a '{sql_key}' string.")
    props = body.get("properties") or body.get("streamsProperties") or {}
    return sql, props, body.get("sessionVariables")


def _error(handler: Handler, err: BaseException, sql: str) -> None:
    if isinstance(err, sqlparser.ParseError):
        message, text = f"line {err.line}:{err.column}: {err.message}", sql
    elif isinstance(err, KsqlError):
        message, text = err.message, err.statement_text or sql
    else:
        message, text = f"{type(err).__name__}: {err}", sql
    handler.send_error_body(400, ent.error_body("statement_error", ent.BAD_STATEMENT, message, text))


def _is_push(sql: str, variables: dict[str, str]) -> bool:
    """A single SELECT ... EMIT CHANGES (anything unparsable is left to the pull path)."""
    try:
        parsed = sqlparser.parse(sql, variables)
    except sqlparser.ParseError:
        return False
    return (len(parsed) == 1 and isinstance(parsed[0], st.Query)
            and parsed[0].select.emit == "CHANGES")


def run_query(handler: Handler, sql_key: str, writer: Writer, content_type: str) -> None:
    """Shared by /query and /query-stream: push queries stream, pull queries answer at once."""
    sql, props, variables = _request(handler, sql_key)
    state = handler.server.state
    dialect: Dialect = props.pop("streamsql.sql.dialect", "auto")
    try:
        with state.scoped(props, variables, hold=False):
            if _is_push(sql, state.engine.variables):
                push: PushQuery | RowsResult = state.engine.push_query(sql)
            else:
                push = _pull(state.engine, sql, dialect)
    except (sqlparser.ParseError, KsqlError) as err:
        _error(handler, err, sql)
        return
    handler.start_chunked(content_type)
    if isinstance(push, RowsResult):
        cols = [(n, t.sql()) for n, t in push.columns]
        handler.write_chunk(writer.header(push.query_id or "pull", cols, push.schema_text()))
        for i, row in enumerate(push.rows):
            handler.write_chunk(writer.row(row, i == 0))
        handler.write_chunk(writer.end(None))
        handler.end_chunked()
        return
    _stream_push(handler, push, writer)


def _pull(engine: Any, sql: str, dialect: Dialect) -> RowsResult:
    results = run_query_sql(engine, sql, dialect)
    if len(results) != 1 or not isinstance(results[0], RowsResult):
        raise KsqlError("Only queries can be run on this endpoint; use /ksql for other statements.", sql)
    return results[0]


def _stream_push(handler: Handler, push: PushQuery, writer: Writer) -> None:
    """Write rows as the query produces them until LIMIT, /close-query, shutdown or disconnect."""
    state = handler.server.state
    state.queries[push.id] = push
    cols = [(n, t.sql()) for n, t in push.columns]
    first = True
    try:
        handler.write_chunk(writer.header(push.id, cols, None))
        while True:
            rows = push.poll(POLL_SECONDS)
            for row in rows:
                handler.write_chunk(writer.row(row, first))
                first = False
            if push.done or state.closing.is_set():
                break
            if not rows and handler.client_gone():
                return
        for row in push.poll(0):  # rows offered between the last poll and the done check
            handler.write_chunk(writer.row(row, first))
            first = False
        limit_reached = push.limit is not None and not push.closed
        handler.write_chunk(writer.end("Limit Reached" if limit_reached else "Query Terminated"))
        handler.end_chunked()
    except OSError:
        handler.close_connection = True
    finally:
        push.close()
        state.queries.pop(push.id, None)


def query_v1(handler: Handler) -> None:
    """POST /query (ksqlDB's original streaming endpoint)."""
    run_query(handler, "ksql", _v1_writer(), "application/vnd.ksql.v1+json")


def query_stream(handler: Handler) -> None:
    """POST /query-stream."""
    as_json = "application/json" in (handler.headers.get("Accept") or "")
    run_query(handler, "sql", _stream_writer(as_json), "application/json" if as_json else DELIMITED)


def close_query(handler: Handler) -> None:
    """POST /close-query ``{"queryId": ...}``."""
    body = handler.json_body()
    qid = body.get("queryId")
    push = handler.server.state.queries.get(str(qid))
    if push is None:
        handler.send_error_body(400, ent.error_body("generic_error", ent.BAD_REQUEST,
                                                    f"No query with id {qid}"))
        return
    push.close()
    handler.send_json(200, {})


def inserts_stream(handler: Handler) -> None:
    """POST /inserts-stream: ``{"target"}`` line, then one JSON object per line, one ack each."""
    lines = handler.body_lines()
    first = next(lines, b"")
    try:
        target = str(json.loads(first or b"{}").get("target", ""))
    except (json.JSONDecodeError, AttributeError) as err:
        raise BadRequest(f"Invalid JSON in request: {err}") from err
    engine = handler.server.state.engine
    with engine.lock:
        source = engine.catalog.source(target) or engine.catalog.source(target.upper())
    if source is None or source.kind != "STREAM":
        for _ in lines:
            pass
        handler.send_error_body(400, ent.error_body("generic_error", ent.BAD_REQUEST,
                                                    f"Cannot insert into an unknown stream: {target}"))
        return
    handler.start_chunked(DELIMITED)
    for seq, line in enumerate(ln for ln in lines if ln.strip()):
        handler.write_chunk((dumps(_insert_one(engine, source, line, seq)) + "\n").encode())
    handler.end_chunked()


def _insert_one(engine: Any, source: Any, line: bytes, seq: int) -> dict[str, Any]:
    try:
        row = json.loads(line)
        if not isinstance(row, dict):
            raise KsqlError("Each insert must be a JSON object.")
        engine.execute(insert_statement(source, row))
    except (json.JSONDecodeError, KsqlError, sqlparser.ParseError) as err:
        message = err.message if isinstance(err, KsqlError) else str(err)
        return {"status": "error", "seq": seq, "error_code": ent.BAD_REQUEST, "message": message}
    return {"status": "ok", "seq": seq}
