"""The HTTP server: ksqlDB's REST API over one engine, on the standard library's threading server.

Endpoints (ksqlDB's shapes, so ksqlDB clients and curl examples work unchanged):

==========================  ==================================================================
``POST /ksql``              statements -> JSON array of entities (``@type`` currentStatus,
                            streams, tables, queries, sourceDescription, properties ...)
``POST /query``             a query as a chunked JSON array: ``{"header"}``, ``{"row"}`` ...,
                            ``{"finalMessage"}``
``POST /query-stream``      a query as a header object then one JSON array per row
                            (``application/vnd.ksqlapi.delimited.v1``, the default) or as one
                            JSON array (``application/json``); HTTP/1.1 chunked
``POST /close-query``       ``{"queryId"}`` stops a push query
``POST /inserts-stream``    ``{"target"}`` then one JSON object per line; one ack per row
``GET /info``               ``{"KsqlServerInfo": {...}}``
``GET /healthcheck``        ``{"isHealthy": true, ...}``
``GET /status[/<id>]``      command statuses
==========================  ==================================================================

Every request is handled on its own thread; the engine is only touched through its API (which
takes ``engine.lock``), so persistent queries keep running on the engine's runtime thread.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

from engine.engine import Engine
from engine.runtime.push import PushQuery

VERSION = "0.1.0"
KSQL_COMPAT_VERSION = "0.29.0"


@dataclass
class ServerState:
    """What the request handlers share: the engine, open push queries and command statuses."""

    engine: Engine
    auth: tuple[str, str] | None = None
    cluster_id: str = "streamsql-embedded"
    queries: dict[str, PushQuery] = field(default_factory=dict)
    statuses: dict[str, dict[str, str]] = field(default_factory=dict)
    sequence: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)

    def next_sequence(self) -> int:
        """ksqlDB's commandSequenceNumber for the next successful command."""
        with self.lock:
            self.sequence += 1
            return self.sequence

    def authorized(self, header: str | None) -> bool:
        """True when no auth is configured or the Basic credentials match."""
        if self.auth is None:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            given = base64.b64decode(header[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(given, f"{self.auth[0]}:{self.auth[1]}")

    @contextlib.contextmanager
    def scoped(self, properties: dict[str, Any] | None, variables: dict[str, Any] | None,
               hold: bool = True) -> Iterator[None]:
        """Apply a request's property overrides and session variables while it runs.

        ksqlDB scopes SET and request properties to the request, so they are restored after.
        With nothing to apply (``hold=False`` callers run no SET/DEFINE), the engine's lock is not
        held, so a long pull or DuckDB query does not pause the persistent queries.
        """
        engine = self.engine
        if not hold and not properties and not variables:
            yield
            return
        with engine.lock:
            saved_props, saved_vars = dict(engine.properties), dict(engine.variables)
            engine.properties.update({k: str(v) for k, v in (properties or {}).items()})
            engine.variables.update({k: str(v) for k, v in (variables or {}).items()})
            try:
                yield
            finally:
                engine.properties.clear()
                engine.properties.update(saved_props)
                engine.variables.clear()
                engine.variables.update(saved_vars)

    def server_info(self) -> dict[str, Any]:
        """The /info body."""
        return {"KsqlServerInfo": {
            "version": KSQL_COMPAT_VERSION, "streamsqlVersion": VERSION,
            "kafkaClusterId": self.cluster_id,
            "ksqlServiceId": self.engine.properties.get("ksql.service.id", "default_"),
            "serverStatus": "RUNNING"}}


class StreamsqlServer(ThreadingHTTPServer):
    """A threading HTTP server carrying the shared state."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: ServerState) -> None:
        from cli.server_handler import Handler

        self.state = state
        self.quiet = True
        super().__init__(address, Handler)

    @property
    def url(self) -> str:
        """The base URL clients use."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def shutdown_all(self) -> None:
        """Stop accepting, end open push queries (so their responses finish), close the socket."""
        self.state.closing.set()
        for push in list(self.state.queries.values()):
            push.close()
        self.shutdown()
        self.server_close()


def parse_listen(text: str, default_port: int = 8088) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT``, ``PORT``, ``http://HOST:PORT``) as an address tuple."""
    text = text.removeprefix("http://")
    host, _, port = text.rpartition(":")
    if not _:
        host, port = (text, str(default_port)) if not text.isdigit() else ("127.0.0.1", text)
    return host or "127.0.0.1", int(port)


def start_server(engine: Engine, listen: str, auth: str | None = None) -> StreamsqlServer:
    """Serve ``engine`` on ``listen`` from a background thread; returns the server."""
    creds = None
    if auth:
        user, _, password = auth.partition(":")
        creds = (user, password)
    server = StreamsqlServer(parse_listen(listen), ServerState(engine, creds, cluster_id=_cluster_id(engine)))
    thread = threading.Thread(target=server.serve_forever, name="streamsql-http", daemon=True)
    thread.start()
    return server


def _cluster_id(engine: Engine) -> str:
    kind = type(engine.store).__name__
    return "embedded-log" if kind == "EmbeddedStore" else f"kafka:{getattr(engine.store, 'bootstrap', '')}"
