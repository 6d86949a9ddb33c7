"""An HTTP client of a streamsql (or ksqlDB) server: the shell's and `streamsql query`'s remote
backend. Statements go to /ksql, queries to /query-stream (delimited rows read as they arrive),
and stopping a push query posts /close-query."""

from __future__ import annotations

import base64
import http.client
import json
import queue
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import parser as sqlparser
from cli.adhoc import Dialect
from cli.backend import CatalogView
from cli.entities import Result, from_entity
from cli.errors import CliError, RemoteError
from engine.results import RowsResult, StatementResult
from parser import statements as st
from parser.statements import SqlType

DELIMITED = "application/vnd.ksqlapi.delimited.v1"


class Connection:
    """Requests to one server (a new HTTP connection per request: streams hold theirs open)."""

    def __init__(self, url: str, auth: str | None = None, timeout: float = 30.0) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CliError(f"Not a server URL: {url}")
        self.url = f"{parts.scheme}://{parts.hostname}:{parts.port or 8088}"
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port or 8088
        self.timeout = timeout
        self.headers = {"Content-Type": "application/vnd.ksql.v1+json"}
        if auth:
            self.headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()

    def open(self, method: str, path: str, body: Any = None, accept: str = "application/json",
             timeout: float | None = None) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send a request and return the connection and its (unread) response; errors raised."""
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=timeout or self.timeout)
        data = json.dumps(body).encode() if body is not None else None
        try:
            conn.request(method, path, body=data, headers={**self.headers, "Accept": accept})
            response = conn.getresponse()
        except OSError as err:
            conn.close()
            raise CliError(f"Could not reach the server at {self.url}: {err}") from err
        if response.status >= 400:
            raw = response.read()
            conn.close()
            raise _error(response.status, raw)
        return conn, response

    def json(self, method: str, path: str, body: Any = None) -> Any:
        """A request whose whole response is one JSON document."""
        conn, response = self.open(method, path, body)
        try:
            return json.loads(response.read() or b"null")
        finally:
            conn.close()


def _error(status: int, raw: bytes) -> RemoteError:
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        return RemoteError(f"HTTP {status}: {raw.decode(errors='replace')[:500]}", status * 100)
    if not isinstance(body, dict):
        return RemoteError(f"HTTP {status}: {body}", status * 100)
    return RemoteError(str(body.get("message", f"HTTP {status}")), int(body.get("error_code", status * 100)),
                       body.get("statementText"))


class RemoteStream:
    """A push query on a server: a reader thread queues the delimited rows."""

    def __init__(self, connection: Connection, sql: str, variables: dict[str, str]) -> None:
        self._connection = connection
        self._conn, self._response = connection.open(
            "POST", "/query-stream", {"sql": sql, "properties": {}, "sessionVariables": variables},
            accept=DELIMITED, timeout=None)
        header = json.loads(self._response.readline() or b"{}")
        self.query_id: str | None = header.get("queryId")
        self.columns = list(zip(header.get("columnNames", []), header.get("columnTypes", []), strict=False))
        self._rows: queue.Queue[list[Any] | None] = queue.Queue()
        self._ended = False
        self._closed = False
        threading.Thread(target=self._read, name="streamsql-stream", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._response:
                if line.strip():
                    value = json.loads(line)
                    self._rows.put(value if isinstance(value, list) else [value])
        except (OSError, ValueError, http.client.HTTPException):
            pass
        self._rows.put(None)

    @property
    def done(self) -> bool:
        """True once the server ended the response (LIMIT, close) or we closed it."""
        return self._closed or (self._ended and self._rows.empty())

    def poll(self, timeout: float) -> list[list[Any]]:
        """Rows received since the last poll."""
        out: list[list[Any]] = []
        try:
            item = self._rows.get(timeout=timeout) if timeout else self._rows.get_nowait()
            while True:
                if item is None:
                    self._ended = True
                else:
                    out.append(item)
                item = self._rows.get_nowait()
        except queue.Empty:
            pass
        return out

    def close(self) -> None:
        """Ask the server to stop the query, then drop the connection."""
        if self._closed:
            return
        self._closed = True
        if not self._ended and self.query_id:
            try:
                self._connection.json("POST", "/close-query", {"queryId": self.query_id})
            except CliError:
                pass
        try:
            if self._conn.sock is not None:
                self._conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._conn.close()


class RemoteBackend:
    """The shell's backend when it is a client of a server."""

    def __init__(self, url: str, auth: str | None = None) -> None:
        self.connection = Connection(url, auth)
        self.info = self.connection.json("GET", "/info").get("KsqlServerInfo", {})
        self._variables: dict[str, str] = {}

    @property
    def variables(self) -> dict[str, str]:
        """Session variables, kept here and sent with each request (as ksqlDB's CLI does)."""
        return self._variables

    def describe(self) -> str:
        """The server's URL and version."""
        return f"server {self.connection.url} (ksqlDB {self.info.get('version')}, " \
               f"service {self.info.get('ksqlServiceId')})"

    def execute(self, sql: str, dialect: Dialect = "auto") -> list[Result]:
        """Queries via /query-stream, DEFINE/UNDEFINE locally, everything else via /ksql."""
        try:
            parsed = sqlparser.parse(sql, self._variables, cli=True)
        except sqlparser.ParseError:
            parsed = []
        if dialect == "duckdb" or not parsed or isinstance(parsed[0], st.Query):
            return [self._query(sql, dialect)]
        if len(parsed) == 1 and isinstance(parsed[0], st.Define | st.Undefine):
            return [self._define(parsed[0], sql)]
        body = {"ksql": sql, "streamsProperties": {}, "sessionVariables": self._variables}
        return [from_entity(e) for e in self.connection.json("POST", "/ksql", body)]

    def _define(self, stmt: st.Define | st.Undefine, sql: str) -> StatementResult:
        if isinstance(stmt, st.Define):
            self._variables[stmt.name] = stmt.value
            return StatementResult(sql, "currentStatus", f"Defined variable {stmt.name}")
        self._variables.pop(stmt.name, None)
        return StatementResult(sql, "currentStatus", f"Undefined variable {stmt.name}")

    def _query(self, sql: str, dialect: Dialect) -> RowsResult:
        body = {"sql": sql, "properties": {"streamsql.sql.dialect": dialect}, "sessionVariables": self._variables}
        rows = self.connection.json("POST", "/query-stream", body)
        header, data = (rows[0], rows[1:]) if rows else ({}, [])
        columns = [(n, SqlType(t)) for n, t in zip(header.get("columnNames", []), header.get("columnTypes", []),
                                                    strict=False)]
        return RowsResult(sql, columns, [list(r) for r in data], header.get("queryId"))

    def stream(self, sql: str) -> RemoteStream:
        """Start a push query on the server."""
        return RemoteStream(self.connection, sql, self._variables)

    def catalog(self) -> CatalogView:
        """Sources with columns, topics and queries, from SHOW ... EXTENDED."""
        entities = self.connection.json("POST", "/ksql", {
            "ksql": "SHOW STREAMS EXTENDED; SHOW TABLES EXTENDED; SHOW TOPICS; SHOW QUERIES;"})
        view = CatalogView()
        for entity in entities:
            result = from_entity(entity)
            for item in result.data or []:
                _add_to_view(view, result.entity, item)
        return view

    def close(self) -> None:
        """Nothing to release: connections are per request."""


def _add_to_view(view: CatalogView, entity: str, item: dict[str, Any]) -> None:
    if entity == "sourceDescriptions":
        (view.tables if item.get("type") == "TABLE" else view.streams).append(item["name"])
        view.columns[item["name"]] = [f["name"] for f in item.get("fields", []) if f["name"] != "ROWTIME"]
    elif entity == "kafka_topics":
        view.topics.append(item["name"])
    elif entity == "queries":
        view.queries.append(item["id"])
