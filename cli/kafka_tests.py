"""`streamsql test --kafka HOST:PORT`: run ksqlDB test cases against a real Kafka broker.

Every case runs on a fresh engine, as on the embedded log, but its topics and consumer groups
live on the broker under a prefix unique to the run and the case (``NamespacedStore``): test
files reuse names such as ``test_topic``, ``OUTPUT`` and ``default_ksql_processing_log``, and a
query's consumer group is named after its query id, so without the prefix cases would read each
other's records and committed offsets. After each case its topics and groups are deleted. Topics
are created without compaction: ksqlDB's test driver has no broker and its inputs include
records without a key for tables, which a compacted Kafka topic rejects.

Speed: one ``KafkaStore`` (one set of connections, one idempotent producer) is shared by every
case of a worker; each case then costs its own topic creations (a CreateTopics round trip plus
metadata propagation, tens of milliseconds each) and the fetch/commit round trips of its
queries. With ``jobs > 1`` cases are split over forked worker processes, each with its own
store, since most of a case's time is spent waiting on the broker.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections.abc import Callable

from engine.qtt.loader import TestCase
from engine.qtt.runner import CaseResult, run_case
from engine.topics.base import TopicStore
from engine.topics.kafka import KafkaStore
from engine.topics.kafka_namespace import NamespacedStore

CLIENT_ID = "streamsql-test"


def case_prefix(run_id: str, index: int) -> str:
    """The broker-side prefix of case ``index`` of run ``run_id`` (Kafka topic characters only)."""
    return f"qtt-{run_id}-{index}-"


def _run_slice(
    bootstrap: str, run_id: str, indexed: list[tuple[int, TestCase]]
) -> list[tuple[int, CaseResult]]:
    """Run some cases sequentially on one shared store; results keyed by case index."""
    out: list[tuple[int, CaseResult]] = []
    with KafkaStore(bootstrap, client_id=CLIENT_ID) as shared:
        for index, case in indexed:
            factory = _namespace_factory(shared, case_prefix(run_id, index))
            out.append((index, run_case(case, store_factory=factory)))
    return out


def _namespace_factory(shared: KafkaStore, prefix: str) -> Callable[[], TopicStore]:
    def factory() -> TopicStore:
        # No compaction: ksqlDB's test driver feeds tables records without keys, which a
        # compacted Kafka topic would reject.
        return NamespacedStore(shared, prefix, compaction=False)

    return factory


def _worker(args: tuple[str, str, list[tuple[int, TestCase]]]) -> list[tuple[int, CaseResult]]:
    return _run_slice(*args)


def run_cases_on_kafka(
    cases: list[TestCase], bootstrap: str, jobs: int | None = None
) -> list[CaseResult]:
    """Run ``cases`` against the broker at ``bootstrap``, isolated from each other.

    Args:
        cases: the test cases (as loaded by ``engine.qtt.loader``).
        bootstrap: ``host:port`` of the Kafka cluster.
        jobs: worker processes (default: ``STREAMSQL_KAFKA_TEST_JOBS`` or 2); each opens its
            own connection to the broker after the fork.

    Returns:
        One result per case, in the order of ``cases``.

    Raises:
        TopicError: the broker is not reachable (after the store's connect retries).
    """
    run_id = uuid.uuid4().hex[:8]
    if jobs is None:
        jobs = int(os.environ.get("STREAMSQL_KAFKA_TEST_JOBS", "2"))
    indexed = list(enumerate(cases))
    if jobs <= 1 or len(cases) < 4:
        done = _run_slice(bootstrap, run_id, indexed)
    else:
        # Interleave so each worker gets a mix of cheap and expensive files.
        slices = [(bootstrap, run_id, indexed[w::jobs]) for w in range(jobs)]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(jobs) as pool:
            done = [item for part in pool.map(_worker, slices) for item in part]
    by_index = dict(done)
    return [by_index[i] for i in range(len(cases))]
