"""Fixtures of the CLI tests: `streamsql` subprocesses that are always stopped, and an in-process
server on a free port."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from cli_support import Child, free_port, streamsql_argv

from cli.server import StreamsqlServer, start_server
from engine.engine import Engine


@pytest.fixture
def children() -> Iterator[Callable[..., Child]]:
    """Start `streamsql` subprocesses; every one is stopped when the test ends."""
    started: list[Child] = []

    def start(*args: str) -> Child:
        child = Child(streamsql_argv(*args))
        started.append(child)
        return child

    yield start
    for child in started:
        child.stop()


@pytest.fixture
def server() -> Iterator[tuple[StreamsqlServer, Engine]]:
    """An in-process server on a free port over an in-memory engine whose queries run."""
    engine = Engine()
    engine.start()
    srv = start_server(engine, f"127.0.0.1:{free_port()}")
    try:
        yield srv, engine
    finally:
        srv.shutdown_all()
        engine.close()
