"""Request handling of the HTTP server: plumbing (bodies, chunked responses, auth) and the
statement endpoints; the query endpoints are in ``cli.server_queries``."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

import parser as sqlparser
from cli import entities as ent
from cli.jsonout import dumps
from engine.errors import KsqlError
from parser import statements as st

if TYPE_CHECKING:
    from cli.server import StreamsqlServer

KSQL_JSON = "application/vnd.ksql.v1+json"
_QUERY_ENDPOINT_MESSAGE = ("The following statement types should be issued to the websocket endpoint "
                           "'/query':\n\t* PRINT\n\t* SELECT")


class BadRequest(Exception):
    """A malformed request (not a rejected statement): ksqlDB's generic_error 40000."""


class Handler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection (keep-alive); each request is routed by path."""

    protocol_version = "HTTP/1.1"
    server: StreamsqlServer

    # -- plumbing ------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Access log only when the server is not quiet."""
        if not self.server.quiet:
            super().log_message(format, *args)

    _headers_sent = False

    def send_response(self, code: int, message: str | None = None) -> None:
        """Start a response (remembering it started, so errors after it are not answered twice)."""
        self._headers_sent = True
        super().send_response(code, message)

    def send_json(self, status: int, body: Any, content_type: str = KSQL_JSON) -> None:
        """A complete JSON response with Content-Length."""
        data = dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_error_body(self, status: int, body: dict[str, Any]) -> None:
        """An error response with ksqlDB's error entity."""
        self.send_json(status, body)

    def start_chunked(self, content_type: str, status: int = 200) -> None:
        """Begin a streamed response (HTTP/1.1 chunked transfer encoding)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        """One chunk; raises ConnectionError when the client went away."""
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")
            self.wfile.flush()

    def end_chunked(self) -> None:
        """The terminating zero-length chunk."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def client_gone(self) -> bool:
        """True when the client closed its side (a readable socket with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def body_lines(self) -> Iterator[bytes]:
        """The request body line by line, as it arrives (Content-Length or chunked)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            pending = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                pending += self.rfile.read(size)
                self.rfile.readline()
                *lines, pending = pending.split(b"\n")
                yield from lines
            if pending:
                yield pending
            return
        remaining = int(self.headers.get("Content-Length") or 0)
        while remaining > 0:
            line = self.rfile.readline(remaining)
            if not line:
                break
            remaining -= len(line)
            yield line.rstrip(b"\r\n")

    def json_body(self) -> dict[str, Any]:
        """The whole request body as a JSON object."""
        raw = b"\n".join(self.body_lines())
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as err:
            raise BadRequest(f"Invalid JSON in request: {err}") from err
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.")
        return body

    # -- routing -------------------------------------------------------------------------------

    def _route(self, routes: dict[str, Any]) -> None:
        if not self.server.state.authorized(self.headers.get("Authorization")):
            self._drain()
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="streamsql"')
            data = dumps(ent.error_body("generic_error", ent.UNAUTHORIZED, "Unauthorized")).encode()
            self.send_header("Content-Type", KSQL_JSON)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self._headers_sent = False
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        handler = routes.get(path)
        if handler is None and path.startswith("/status/"):
            handler = self.status
        if handler is None:
            self._drain()
            self.send_error_body(404, ent.error_body("generic_error", ent.NOT_FOUND, f"Not found: {path}"))
            return
        try:
            handler()
        except BadRequest as err:
            self.send_error_body(400, ent.error_body("generic_error", ent.BAD_REQUEST, str(err)))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as err:  # noqa: BLE001 - a bug must answer 500, not kill the connection
            self.close_connection = True
            if not self._headers_sent:
                self.send_error_body(500, ent.error_body("generic_error", ent.SERVER_ERROR,
                                                         f"{type(err).__name__}: {err}"))

    def _drain(self) -> None:
        for _ in self.body_lines():
            pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        """GET endpoints."""
        self._route({"/info": self.info, "/healthcheck": self.healthcheck, "/status": self.status,
                     "/": self.info})

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        """POST endpoints."""
        from cli import server_queries as q

        self._route({"/ksql": self.ksql, "/query": lambda: q.query_v1(self),
                     "/query-stream": lambda: q.query_stream(self), "/close-query": lambda: q.close_query(self),
                     "/inserts-stream": lambda: q.inserts_stream(self)})

    # -- endpoints -----------------------------------------------------------------------------

    def info(self) -> None:
        """GET /info."""
        self.send_json(200, self.server.state.server_info())

    def healthcheck(self) -> None:
        """GET /healthcheck."""
        state = self.server.state
        self.send_json(200, {"isHealthy": True, "details": {"metastore": {"isHealthy": True},
                                                             "kafka": {"isHealthy": True}},
                             "ksqlServiceId": state.engine.properties.get("ksql.service.id", "default_")})

    def status(self) -> None:
        """GET /status (every command) or /status/<commandId>."""
        statuses = self.server.state.statuses
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/status":
            self.send_json(200, {"commandStatuses": {cid: s["status"] for cid, s in statuses.items()}})
            return
        cid = path.removeprefix("/status/")
        if cid not in statuses:
            self.send_error_body(404, ent.error_body("generic_error", ent.NOT_FOUND, f"Command not found: {cid}"))
            return
        self.send_json(200, statuses[cid])

    def ksql(self) -> None:
        """POST /ksql: run statements; a JSON array of entities, or ksqlDB's error body."""
        body = self.json_body()
        text = body.get("ksql")
        if not isinstance(text, str):
            raise BadRequest("The request must have a 'ksql' string.")
        props = body.get("streamsProperties") or body.get("properties") or {}
        state = self.server.state
        done: list[dict[str, Any]] = []
        with state.scoped(props, body.get("sessionVariables")):
            try:
                parsed = sqlparser.parse_with_source(text, state.engine.variables)
            except sqlparser.ParseError as err:
                self.send_error_body(400, ent.error_body("statement_error", ent.BAD_STATEMENT,
                                                         f"line {err.line}:{err.column}: {err.message}", text))
                return
            for p in parsed:
                error = self._run_statement(p, done)
                if error is not None:
                    self.send_error_body(400, error)
                    return
        self.send_json(200, done)

    def _run_statement(self, p: sqlparser.ParsedStatement, done: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Run one statement, appending its entity; returns an error body instead on failure."""
        if isinstance(p.statement, st.Query):
            return ent.error_body("statement_error", ent.QUERY_ENDPOINT, _QUERY_ENDPOINT_MESSAGE, p.text, done)
        state = self.server.state
        try:
            result = state.engine.execute_statement(p.statement, p.text)
        except KsqlError as err:
            return ent.error_body("statement_error", ent.BAD_STATEMENT, err.message,
                                  err.statement_text or p.text, done)
        except Exception as err:  # noqa: BLE001 - a server reports, it does not die
            return ent.error_body("statement_error", ent.SERVER_ERROR, f"{type(err).__name__}: {err}", p.text, done)
        from engine.results import RowsResult

        if isinstance(result, RowsResult):
            return ent.error_body("statement_error", ent.QUERY_ENDPOINT, _QUERY_ENDPOINT_MESSAGE, p.text, done)
        if result.entity == "currentStatus":
            cid = ent.command_id(p.statement, result)
            seq = state.next_sequence()
            state.statuses[cid] = {"status": "SUCCESS", "message": result.message}
            done.append(ent.to_entity(result, cid, seq))
        else:
            done.append(ent.to_entity(result))
        return None
