"""The Kafka backend: ``KafkaStore`` implements ``TopicStore`` over a real broker with aiokafka.

aiokafka is asyncio-only; the store runs one event loop on a private daemon thread and every
synchronous call submits a coroutine to it and waits (``kafka_client``).

Produce (``KafkaTopic.produce``, ``kafka_records``): a batch is split by partition
(``engine.topics.partitioner``: Kafka's murmur2 for keys, round-robin for null keys, an explicit
``partition`` column wins) and written as whole Kafka record batches
(``AIOKafkaProducer.send_batch``), idempotent with ``acks=all``: one future per Kafka batch instead
of one per record, and offsets come back as ``base offset + index``. The result is grouped by
partition (ascending), input order kept within a partition, as the embedded log returns it.

Fetch: a ``FetchRequest`` goes straight to the partition leader through ``AIOKafkaClient`` and the
response's record batches are decoded by aiokafka's C ``DefaultRecordBatch`` into column lists, then
Arrow arrays: no ``ConsumerRecord``, no consumer fetcher state, no per-message deserialiser
calls. Records decoded past ``max_records`` are kept for the next call, and the next fetch of the
partition is requested in the background so the broker round trip overlaps the caller's work.
Read isolation is ``read_uncommitted``; control batches are skipped.

Consumer-group offsets use the group coordinator directly (``kafka_groups``: OffsetCommit with generation -1, as
a client with manual assignment commits; OffsetFetch), so no group membership is needed.

Failures: the broker unreachable at start is retried with backoff for ``connect_timeout``, then
``TopicError`` names the address. Afterwards every call retries transient errors (connection
refused while the broker restarts, leader or coordinator not available) with backoff for up to
``retry_timeout``; only past that does ``TopicError`` reach the caller.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import aiokafka.errors as errors
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.cluster import ClusterMetadata
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.protocol.offset import OffsetRequest
from aiokafka.structs import TopicPartition

from engine.topics import kafka_groups
from engine.topics.base import HEADER_TYPE, TopicConfig, TopicError
from engine.topics.kafka_client import (
    EARLIEST,
    LoopThread,
    MetadataUnavailableError,
    describe,
    log,
    raise_for,
    retry,
)
from engine.topics.kafka_topic import KafkaTopic

T = TypeVar("T")



class KafkaStore:
    """A ``TopicStore`` on a Kafka cluster.

    Args:
        bootstrap: ``host:port[,host:port...]`` of the cluster.
        client_id: client id the broker sees (logs, quotas).
        connect_timeout: how long to keep retrying (with backoff) when the broker is down at
            start; then ``TopicError`` says so.
        request_timeout: timeout of one Kafka request (aiokafka's ``request_timeout_ms``).
        retry_timeout: how long one call keeps retrying transient errors (broker restarting,
            leader or coordinator moving) before ``TopicError``; a broker restart shorter than
            this is invisible to callers.
        fetch_max_bytes: bytes asked for per partition fetch (a batch larger than this is still
            returned whole by the broker).
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "streamsql",
        connect_timeout: float = 30.0,
        request_timeout: float = 30.0,
        retry_timeout: float = 120.0,
        fetch_max_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.request_timeout = request_timeout
        self.retry_timeout = retry_timeout
        self.fetch_max_bytes = fetch_max_bytes
        # Bytes per produced Kafka batch: under the broker's default message.max.bytes (1 MiB).
        self.max_batch_bytes = 1_000_000
        self._topics: dict[str, KafkaTopic] = {}
        self._lock = threading.Lock()
        self._loop = LoopThread(f"kafka-{client_id}")
        self._client: AIOKafkaClient
        self._admin: AIOKafkaAdminClient
        self._producer: AIOKafkaProducer
        self._cluster: ClusterMetadata | None = None  # for leader lookups; refreshed on errors
        self._background: set[concurrent.futures.Future[None]] = set()
        try:
            self._loop.run(self._connect(connect_timeout), connect_timeout + request_timeout)
        except BaseException:
            self._loop.stop()
            raise

    # -- plumbing --------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop thread; Kafka errors become ``TopicError``."""
        try:
            return self._loop.run(coro, self.retry_timeout + self.request_timeout)
        except errors.KafkaError as exc:
            raise TopicError(f"Kafka at {self.bootstrap}: {describe(exc)}") from exc
        except (TimeoutError, OSError) as exc:
            raise TopicError(f"Kafka at {self.bootstrap}: {describe(exc)}") from exc

    async def _connect(self, timeout: float) -> None:
        """Start the clients, retrying with exponential backoff while the broker is unreachable."""
        began = time.monotonic()
        delay, attempts = 0.1, 0
        while True:
            attempts += 1
            try:
                await self._start_clients()
                return
            except (TimeoutError, errors.KafkaError, OSError) as exc:
                await self._close_clients()
                elapsed = time.monotonic() - began
                if elapsed >= timeout:
                    raise TopicError(
                        f"Kafka broker at {self.bootstrap} is not reachable: gave up after {attempts} "
                        f"attempts in {elapsed:.1f}s ({describe(exc)})"
                    ) from exc
                if attempts == 1:
                    log.warning(
                        "Kafka broker at %s is not reachable yet (%s); retrying for up to %.0fs",
                        self.bootstrap, describe(exc), timeout,
                    )
            # Backoff before the next attempt; the last one lands on the deadline.
            await asyncio.sleep(min(delay, max(0.0, timeout - (time.monotonic() - began))))
            delay = min(delay * 2, 2.0)

    async def _start_clients(self) -> None:
        common: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "client_id": self.client_id,
            "request_timeout_ms": int(self.request_timeout * 1000),
        }
        self._client = AIOKafkaClient(**common)
        await self._client.bootstrap()
        self._admin = AIOKafkaAdminClient(**common)
        await self._admin.start()
        # Idempotent with acks=all: a batch retried across a broker bounce is written once.
        self._producer = AIOKafkaProducer(
            **common, acks="all", enable_idempotence=True, max_batch_size=self.max_batch_bytes, linger_ms=0
        )
        await self._producer.start()

    async def _close_clients(self) -> None:
        for name in ("_producer", "_admin", "_client"):
            client = getattr(self, name, None)
            if client is not None:
                try:
                    await (client.stop() if name == "_producer" else client.close())
                except Exception:  # closing half-started clients must not mask the real error
                    pass
                delattr(self, name)

    def _new_builder(self) -> Any:
        return self._producer.create_batch()

    def _deadline(self) -> float:
        return time.monotonic() + self.retry_timeout

    async def _metadata(self) -> ClusterMetadata:
        """Fresh metadata of every topic (one Metadata request); also kept for leader lookups."""
        try:
            self._cluster = await self._client.fetch_all_metadata()
        except errors.KafkaConnectionError:
            raise
        except errors.KafkaError as exc:  # "Unable to get cluster metadata": no broker answered
            raise MetadataUnavailableError(str(exc)) from exc
        return self._cluster

    async def _metadata_retrying(self) -> ClusterMetadata:
        return await retry(self._metadata, self._deadline(), self._refresh)

    async def _leader(self, topic: str, partition: int) -> int:
        """The partition's leader node; an unknown topic is an error, not something to wait for."""
        tp = TopicPartition(topic, partition)
        cluster = self._cluster
        if cluster is None or cluster.partitions_for_topic(topic) is None:
            cluster = await self._metadata()
        if cluster.partitions_for_topic(topic) is None:
            raise TopicError(f"Topic '{topic}' does not exist")
        leader = cluster.leader_for_partition(tp)
        if leader is None or leader < 0:
            self._cluster = None
            raise errors.LeaderNotAvailableError(f"no leader for {topic}-{partition}")
        return int(leader)

    async def _refresh(self) -> None:
        self._cluster = None  # the next leader lookup asks the cluster again

    # -- produce / fetch / offsets (called by KafkaTopic) -----------------------------------

    async def _send(self, topic: str, builders: dict[int, list[Any]]) -> dict[int, list[int]]:
        """Submit every Kafka batch; per partition, the base offset of each, in order.

        aiokafka's sender retries a batch across connection loss with the same producer id
        and sequence number, so a broker restart neither loses nor duplicates it.
        """

        async def one_partition(partition: int, batches: list[Any]) -> list[asyncio.Future[Any]]:
            # send_batch queues behind the partition's previous batch, keeping order.
            return [await self._producer.send_batch(b, topic, partition=partition) for b in batches]

        parts = sorted(builders)
        queued = await asyncio.gather(*(one_partition(p, builders[p]) for p in parts))
        acked = [await asyncio.gather(*futures) for futures in queued]
        return {p: [meta.offset for meta in metas] for p, metas in zip(parts, acked, strict=True)}

    async def _fetch_bytes(
        self, topic: str, partition: int, offset: int, exact: bool = False
    ) -> tuple[int, bytes]:
        """Raw record batches of ``partition`` from ``offset``; returns (offset used, bytes).

        An offset below the log start (retention, compaction) reads from the log start unless
        ``exact``; an offset at or past the end gives no bytes.
        """

        async def attempt() -> tuple[int, bytes]:
            request = FetchRequest(
                0, 1, self.fetch_max_bytes, 0, [(topic, [(partition, offset, self.fetch_max_bytes)])]
            )
            response = await self._client.send(await self._leader(topic, partition), request)
            _, error_code, _, *rest = response.topics[0][1][0]
            if error_code == errors.OffsetOutOfRangeError.errno:
                start = (await self._list_offsets(topic, partition + 1, EARLIEST))[partition]
                if offset < start and not exact:
                    return await self._fetch_bytes(topic, partition, start)
                return offset, b""
            raise_for(error_code, f"fetch {topic}-{partition}@{offset}")
            return offset, bytes(rest[-1] or b"")

        return await retry(attempt, self._deadline(), self._refresh)

    async def _list_offsets(self, topic: str, partitions: int, which: int) -> dict[int, int]:
        async def attempt() -> dict[int, int]:
            by_leader: dict[int, list[tuple[int, int]]] = {}
            for p in range(partitions):
                by_leader.setdefault(await self._leader(topic, p), []).append((p, which))
            found: dict[int, int] = {}
            for leader, parts in by_leader.items():
                response = await self._client.send(leader, OffsetRequest(-1, 0, [(topic, parts)]))
                for _, rows in response.topics:
                    for p, code, *info in rows:
                        raise_for(code, f"list offsets {topic}-{p}")
                        found[p] = int(info[1] if response.API_VERSION else info[0][0])
            return found

        return await retry(attempt, self._deadline(), self._refresh)

    # -- topics -----------------------------------------------------------------------------

    def create_topic(self, config: TopicConfig) -> KafkaTopic:
        """Create a topic (or return the existing one, whose partition count wins)."""
        return self.create_topics([config])[0]

    def create_topics(self, configs: list[TopicConfig]) -> list[KafkaTopic]:
        """Create several topics with one CreateTopics request (existing ones are kept)."""
        for config in configs:
            if config.partitions < 1 or config.replicas < 1:
                raise TopicError(f"Invalid partitions/replicas for topic '{config.name}'")
        counts = self._run(self._create(configs))
        return [self._topic_object(c.name, n) for c, n in zip(configs, counts, strict=True)]

    async def _create(self, configs: list[TopicConfig]) -> list[int]:
        new = [
            NewTopic(
                c.name, c.partitions, c.replicas,
                topic_configs={"cleanup.policy": "compact"} if c.compacted else {},
            )
            for c in configs
        ]

        async def attempt() -> None:
            try:
                response = await self._admin.create_topics(new)
            except AttributeError as exc:  # the admin client has no controller yet (restarting)
                raise MetadataUnavailableError("no controller known") from exc
            for row in response.topic_errors:
                if row[1] and row[1] != errors.TopicAlreadyExistsError.errno:
                    message = row[2] if len(row) > 2 and row[2] else errors.for_code(row[1]).__name__
                    raise TopicError(f"Cannot create topic '{row[0]}': {message}")

        await retry(attempt, self._deadline(), self._refresh)
        return await self._wait_partitions([c.name for c in configs], present=True)

    async def _wait_partitions(self, names: list[str], *, present: bool) -> list[int]:
        """Wait until metadata shows every topic with a leader per partition (or, none of them)."""
        deadline, delay = self._deadline(), 0.002
        while True:
            cluster = await self._metadata_retrying()
            counts = [_ready_partitions(cluster, name) for name in names]
            if present and all(counts) or not present and not any(cluster.partitions_for_topic(n) for n in names):
                return counts
            if time.monotonic() > deadline:
                state = "appear" if present else "disappear"
                raise TopicError(
                    f"Topics {names} did not {state} in metadata within {self.retry_timeout:.0f}s"
                )
            await asyncio.sleep(delay)  # metadata propagation from the controller is asynchronous
            delay = min(delay * 2, 0.5)

    def _topic_object(self, name: str, partitions: int) -> KafkaTopic:
        with self._lock:
            topic = self._topics.get(name)
            if topic is None or topic.partitions != partitions:
                topic = KafkaTopic(self, name, partitions)
                self._topics[name] = topic
            return topic

    def topic(self, name: str) -> KafkaTopic | None:
        """The topic called ``name`` (case-sensitive), or None."""
        parts = self._run(self._metadata_retrying()).partitions_for_topic(name)
        if not parts:
            with self._lock:
                self._topics.pop(name, None)
            return None
        return self._topic_object(name, len(parts))

    def list_topics(self) -> list[str]:
        """Names of all topics except Kafka's internal ones (``__consumer_offsets``...), sorted."""
        return sorted(self._run(self._metadata_retrying()).topics(exclude_internal_topics=True))

    def delete_topic(self, name: str) -> None:
        """Delete a topic and its records; no error if absent. Returns once metadata agrees."""
        self.delete_topics([name])

    def delete_topics(self, names: list[str]) -> None:
        """Delete topics with one DeleteTopics request; absent ones are no error.

        Returns once the brokers' metadata no longer shows them.
        """
        if names:
            self._drop_topic_objects(names)
            self._run(self._delete(names, wait=True))

    def delete_in_background(self, topics: list[str], groups: list[str]) -> None:
        """Start deleting ``topics`` and consumer ``groups`` without waiting for it.

        For cleanup of names nobody reuses (a finished test case's namespace): the next caller
        does not wait for the controller. ``close`` (or ``wait_background``) waits for it;
        failures are logged, not raised.
        """
        self._drop_topic_objects(topics)

        async def cleanup() -> None:
            if topics:
                await self._delete(topics, wait=False)
            if groups:
                await self._delete_groups(groups)

        future = self._loop.submit(cleanup())
        with self._lock:
            self._background.add(future)
        future.add_done_callback(self._background_done)

    def _background_done(self, future: concurrent.futures.Future[None]) -> None:
        with self._lock:
            self._background.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.warning("Background deletion failed: %s", describe(future.exception() or Exception()))

    def wait_background(self, timeout: float | None = None) -> None:
        """Wait for the background deletions started so far."""
        with self._lock:
            pending = list(self._background)
        concurrent.futures.wait(pending, timeout=timeout if timeout is not None else self.retry_timeout)

    def _drop_topic_objects(self, names: list[str]) -> None:
        with self._lock:
            dropped = [t for n in names if (t := self._topics.pop(n, None)) is not None]
        for topic in dropped:
            topic._drop()

    async def _delete(self, names: list[str], wait: bool) -> None:
        async def attempt() -> None:
            try:
                response = await self._admin.delete_topics(names)
            except AttributeError as exc:  # the admin client has no controller yet (restarting)
                raise MetadataUnavailableError("no controller known") from exc
            for name, code, *_ in response.topic_error_codes:
                if code and code != errors.UnknownTopicOrPartitionError.errno:
                    raise TopicError(f"Cannot delete topic '{name}': {errors.for_code(code).__name__}")

        await retry(attempt, self._deadline(), self._refresh)
        self._forget_in_producer(set(names))
        if wait:
            await self._wait_partitions(names, present=False)

    def _forget_in_producer(self, names: set[str]) -> None:
        # The producer's client keeps refreshing metadata of every topic it ever wrote to (and
        # logs an error per deleted one); drop deleted topics from that set (aiokafka internals).
        client = self._producer.client
        tracked = getattr(client, "_topics", None)
        if tracked and tracked & names:
            client.set_topics(sorted(tracked - names))

    # -- consumer groups (kafka_groups) -----------------------------------------------------

    def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """Store committed offsets (next offset to read) for ``group``, keyed (topic, partition)."""
        if offsets:
            done = kafka_groups.commit_offsets(self._client, group, offsets, self._deadline(), self._refresh)
            self._run(done)

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """Committed offsets of ``group`` for ``topic``: partition -> next offset to read."""
        return self._run(self._committed(group, topic))

    async def _committed(self, group: str, topic: str) -> dict[int, int]:
        parts = (await self._metadata_retrying()).partitions_for_topic(topic)
        if not parts:
            return {}
        return await kafka_groups.fetch_offsets(
            self._client, group, topic, sorted(parts), self._deadline(), self._refresh
        )

    def delete_groups(self, groups: list[str]) -> None:
        """Delete consumer groups and their committed offsets; unknown groups are no error."""
        if groups:
            self._run(self._delete_groups(groups))

    async def _delete_groups(self, groups: list[str]) -> None:
        await kafka_groups.delete_groups(self._client, groups, self._deadline(), self._refresh)

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Finish background deletions, close the clients (flushing produce requests) and stop
        the loop thread."""
        self.wait_background()
        with self._lock:
            topics = list(self._topics.values())
            self._topics.clear()
        for topic in topics:
            topic._drop()
        try:
            self._loop.run(self._close_clients(), self.request_timeout)
        finally:
            self._loop.stop()

    def __enter__(self) -> KafkaStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ready_partitions(cluster: ClusterMetadata, name: str) -> int:
    """Partition count of ``name`` if every partition has a leader, else 0."""
    parts = cluster.partitions_for_topic(name)
    if not parts or any((cluster.leader_for_partition(TopicPartition(name, p)) or -1) < 0 for p in parts):
        return 0
    return len(parts)


__all__ = ["HEADER_TYPE", "KafkaStore", "KafkaTopic"]
