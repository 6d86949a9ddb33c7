"""Choosing the topic backend: Kafka when a bootstrap address is given, else the embedded log.

Environment (read when the store is opened):

- ``STREAMSQL_KAFKA``: the bootstrap ``HOST:PORT`` when no ``--kafka`` flag is given.
- ``STREAMSQL_KAFKA_CONNECT_TIMEOUT``: seconds to keep retrying, with backoff, a broker that is
  not reachable at start (default 30); then opening fails with ``TopicError``.
- ``STREAMSQL_KAFKA_RETRY_TIMEOUT``: seconds one operation keeps retrying transient errors
  (a broker restarting, a leader moving) before failing (default 120).
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.topics.base import TopicError, TopicStore

CONNECT_TIMEOUT_ENV = "STREAMSQL_KAFKA_CONNECT_TIMEOUT"
RETRY_TIMEOUT_ENV = "STREAMSQL_KAFKA_RETRY_TIMEOUT"


def kafka_from_env(explicit: str | None = None) -> str | None:
    """The Kafka bootstrap address: the explicit flag, else ``STREAMSQL_KAFKA``, else None."""
    return explicit or os.environ.get("STREAMSQL_KAFKA") or None


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise TopicError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise TopicError(f"{name} must be positive, not {raw!r}")
    return value


def open_store(kafka: str | None = None, data_dir: str | Path | None = None) -> TopicStore:
    """A KafkaStore for ``kafka`` (HOST:PORT), or the embedded log under ``data_dir/topics``
    (in memory when ``data_dir`` is None).

    Raises:
        TopicError: the Kafka broker is not reachable within the connect timeout (the message
            names the address and the attempts), or a timeout variable is malformed.
    """
    if kafka:
        from engine.topics.kafka import KafkaStore

        return KafkaStore(
            kafka,
            connect_timeout=_seconds(CONNECT_TIMEOUT_ENV, 30.0),
            retry_timeout=_seconds(RETRY_TIMEOUT_ENV, 120.0),
        )
    from engine.topics.embedded import EmbeddedStore

    return EmbeddedStore(Path(data_dir) / "topics" if data_dir is not None else None)
