"""Where a run's topics live: the embedded log (a directory per data set) or a real Kafka broker.

The runner writes every input once per backend (``ensure``) and hands workers the location;
a worker opens its own store there. Embedded data sets each get their own directory, so the
engine's catalog and state (kept in a separate per-measurement directory) never mix.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench import datasets
from bench.datasets import Dataset
from engine.topics.base import TopicStore
from engine.topics.factory import open_store


class Backend:
    """One backend of a run: ``embedded`` under ``root``, or ``kafka`` at ``bootstrap``."""

    def __init__(self, name: str, root: Path, bootstrap: str | None = None) -> None:
        self.name = name
        self.root = root
        self.bootstrap = bootstrap
        self.run_id = time.strftime("%H%M%S")
        self._written: dict[tuple[str, str], int] = {}
        self._kafka_store: TopicStore | None = None

    def store_dir(self, dataset: Dataset) -> Path:
        """Directory whose ``topics/`` holds the embedded data set (unused for Kafka)."""
        return self.root / "inputs" / dataset.id

    def prefix(self, dataset: Dataset) -> str:
        """Topic prefix of a data set's inputs."""
        return f"b{self.run_id}_{dataset.id}_"

    def _store(self, dataset: Dataset) -> TopicStore:
        if self.bootstrap is None:
            return open_store(None, self.store_dir(dataset))
        if self._kafka_store is None:
            self._kafka_store = open_store(self.bootstrap, None)
        return self._kafka_store

    def ensure(self, dataset: Dataset, parts: tuple[str, ...]) -> int:
        """Write the data set's topics ``parts`` unless already written; returns their records."""
        total = 0
        for part in parts:
            key = (dataset.id, part)
            if key not in self._written:
                store = self._store(dataset)
                began = time.perf_counter()
                self._written[key] = datasets.produce(store, self.prefix(dataset), dataset, part)
                print(f"  [{self.name}] wrote {self._written[key]:,} {part} records "
                      f"({time.perf_counter() - began:.1f}s)", flush=True)
                if self.bootstrap is None:
                    store.close()
            total += self._written[key]
        return total

    def spec(self, dataset: Dataset) -> dict[str, object]:
        """The worker-spec fields that locate a data set."""
        return {"kafka": self.bootstrap, "store_dir": str(self.store_dir(dataset)),
                "in_prefix": self.prefix(dataset)}

    def drop(self, dataset: Dataset) -> None:
        """Free a data set's space (embedded: its directory; Kafka: its topics)."""
        for key in [k for k in self._written if k[0] == dataset.id]:
            if self.bootstrap is not None and self._kafka_store is not None:
                self._kafka_store.delete_topic(self.prefix(dataset) + key[1])
            del self._written[key]
        if self.bootstrap is None:
            shutil.rmtree(self.store_dir(dataset), ignore_errors=True)

    def close(self) -> None:
        if self._kafka_store is not None:
            self._kafka_store.close()
            self._kafka_store = None
