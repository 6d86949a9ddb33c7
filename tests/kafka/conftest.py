"""Fixtures for the tests that need a real Kafka broker (marker ``kafka``).

One broker per test session, started with ``tools/kafka/broker.py`` (Java 17+ and Maven fetch
and run it) and always stopped at the end. ``STREAMSQL_KAFKA=host:port`` uses an existing broker
instead. Without either, the session fails with a message saying so: never a silent skip.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    import tools.kafka.broker as broker_mod
except ImportError:  # `pytest` run without the repo root on sys.path (`python -m pytest` has it)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import tools.kafka.broker as broker_mod

from kafka_support import KafkaUnderTest, wait_for

from engine.topics.kafka import KafkaStore

ENV_VAR = "STREAMSQL_KAFKA"


def _external(bootstrap: str) -> KafkaUnderTest:
    host, _, port = bootstrap.rpartition(":")
    wait_for(
        lambda: broker_mod.api_versions_ok(host or "127.0.0.1", int(port)),
        30.0,
        f"the Kafka broker at {ENV_VAR}={bootstrap}",
    )
    return KafkaUnderTest(bootstrap, None)


@pytest.fixture(scope="session")
def kafka(request: pytest.FixtureRequest) -> Iterator[KafkaUnderTest]:
    """A running broker for the whole session (started here unless STREAMSQL_KAFKA is set)."""
    external = os.environ.get(ENV_VAR, "").strip()
    if external:
        yield _external(external)
        return
    workdir = broker_mod.DEFAULT_WORKDIR / f"pytest-{os.getpid()}"
    broker = broker_mod.KafkaBroker(workdir, die_with_parent=True)
    error: broker_mod.BrokerError | None = None
    try:
        bootstrap = broker.start(fresh=True)
    except broker_mod.BrokerError as exc:
        error = exc
    if error is not None:
        broker.stop()
        hint = (
            "" if broker_mod.EXISTING_BROKER_HINT in str(error) else "\n\n" + broker_mod.EXISTING_BROKER_HINT
        )
        pytest.fail(
            f"Could not start a Kafka broker with tools/kafka/broker.py:\n{error}{hint}", pytrace=False
        )
    try:
        yield KafkaUnderTest(bootstrap, broker)
    finally:
        broker.stop()
        # Keep data and logs of a failed session for diagnosis; otherwise leave nothing behind.
        if request.session.testsfailed == 0:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> str:
    """A topic name unique to this test (tests share one broker)."""
    base = "".join(c if c.isalnum() or c in "._-" else "-" for c in request.node.name[:40])
    return f"t-{base}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def store(kafka: KafkaUnderTest) -> Iterator[KafkaStore]:
    """A KafkaStore on the session broker, closed after the test."""
    kafka_store = KafkaStore(kafka.bootstrap, client_id="streamsql-tests")
    try:
        yield kafka_store
    finally:
        kafka_store.close()
