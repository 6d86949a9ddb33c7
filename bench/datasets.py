"""Input data sets: which generator fills which topics, how many records, written once per run.

Workloads that read the same input (q0, q1, q2 read the same bids) share one data set, so a run
generates and produces each input once per backend. Topics have one partition: the engine runs
one query on one core, and one partition keeps record order (and so the outputs) deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from bench import generators as gen
from bench.workloads import Workload
from engine.topics.base import TopicConfig, TopicStore

# Share of Nexmark events per part (1 : 3 : 46 in every 50).
NEXMARK_SHARE = {"person": 1 / 50, "auction": 3 / 50, "bid": 46 / 50}
USERS = 10_000
BATCH_EVENTS = 100_000


@dataclass(frozen=True, slots=True)
class Dataset:
    """A generated input: ``events`` generator events of ``family``."""

    family: str
    events: int

    @property
    def id(self) -> str:
        """Short name used in topic prefixes."""
        return f"{self.family[:2]}{self.events}"


def for_workload(workload: Workload, base: int) -> Dataset:
    """The data set that gives ``workload`` about ``base * workload.scale`` input records."""
    want = max(1, int(base * workload.scale))
    if workload.family == "nexmark":
        share = sum(NEXMARK_SHARE[p] for p in workload.inputs)
        return Dataset("nexmark", int(want / share) + 50)
    return Dataset(workload.family, want)


def batches(dataset: Dataset, part: str, batch_events: int = BATCH_EVENTS) -> Iterator[pa.RecordBatch]:
    """Raw batches of one topic of ``dataset``."""
    if part == "users":
        yield gen.users(USERS)
        return
    for start, end in gen.chunks(dataset.events, batch_events):
        if dataset.family == "nexmark":
            yield gen.nexmark(start, end, parts=(part,))[part]
        else:
            yield gen.pageviews(start, end, users=USERS, distinct=dataset.family == "distinct")


def produce(store: TopicStore, prefix: str, dataset: Dataset, part: str) -> int:
    """Create ``prefix + part`` (one partition) and write the data set's records; returns the count."""
    topic = store.create_topic(TopicConfig(prefix + part, partitions=1))
    written = 0
    for batch in batches(dataset, part):
        topic.produce(batch)
        written += batch.num_rows
    return written
