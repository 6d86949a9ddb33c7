"""Choosing the topic backend: Kafka when a bootstrap address is given, else the embedded log."""

from __future__ import annotations

import os
from pathlib import Path

from engine.topics.base import TopicStore


def kafka_from_env(explicit: str | None = None) -> str | None:
    """The Kafka bootstrap address: the explicit flag, else ``STREAMSQL_KAFKA``, else None."""
    return explicit or os.environ.get("STREAMSQL_KAFKA") or None


def open_store(kafka: str | None = None, data_dir: str | Path | None = None) -> TopicStore:
    """A KafkaStore for ``kafka`` (HOST:PORT), or the embedded log under ``data_dir/topics``
    (in memory when ``data_dir`` is None)."""
    if kafka:
        from engine.topics.kafka import KafkaStore
        return KafkaStore(kafka)
    from engine.topics.embedded import EmbeddedStore
    return EmbeddedStore(Path(data_dir) / "topics" if data_dir is not None else None)
