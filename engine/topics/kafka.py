"""The Kafka backend: ``KafkaStore`` implements ``TopicStore`` over a real broker with aiokafka.

aiokafka is asyncio-only; the store runs one event loop on a private daemon thread and every
synchronous call submits a coroutine to it and waits (bounded by ``request_timeout``).

Produce: a batch is split by partition (``engine.topics.partitioner``: Kafka's murmur2 for keys,
round-robin for null keys, an explicit ``partition`` column wins) and written as whole Kafka
record batches (``AIOKafkaProducer.send_batch``), idempotent with ``acks=all``: one future per
Kafka batch instead of one per record, and offsets come back as ``base offset + index``. The
result is grouped by partition (ascending), input order kept within a partition, as the embedded
log returns it.

Fetch: a ``FetchRequest`` goes straight to the partition leader through ``AIOKafkaClient`` and the
response's record batches are decoded by aiokafka's C ``DefaultRecordBatch`` into column lists, then
Arrow arrays: no ``ConsumerRecord``, no consumer fetcher state, no per-message deserialiser
calls. Records decoded past ``max_records`` are kept for the next call, and the next fetch of the
partition is requested in the background so the broker round trip overlaps the caller's work.
Read isolation is ``read_uncommitted``; control batches are skipped.

Consumer-group offsets use the group coordinator directly (OffsetCommit with generation -1, as
a client with manual assignment commits; OffsetFetch), so no group membership is needed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import aiokafka.errors as errors
import pyarrow as pa
import pyarrow.compute as pc
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient, ConnectionGroup
from aiokafka.cluster import ClusterMetadata
from aiokafka.protocol.commit import OffsetCommitRequest, OffsetFetchRequest
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.protocol.offset import OffsetRequest
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import TopicPartition

from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig, TopicError
from engine.topics.partitioner import RoundRobin, assign_partitions

T = TypeVar("T")

_GROUP_COORDINATOR = 0  # FindCoordinator key type for consumer groups
_LATEST = -1  # ListOffsets timestamp meaning "the next offset to be written"
_EARLIEST = -2
# Retriable broker answers while a topic, leader or group coordinator is still being set up.
_TRANSIENT = (
    errors.NotLeaderForPartitionError,
    errors.UnknownTopicOrPartitionError,
    errors.LeaderNotAvailableError,
    errors.CoordinatorLoadInProgressError,
    errors.CoordinatorNotAvailableError,
    errors.NotCoordinatorError,
    errors.KafkaConnectionError,
    errors.NodeNotReadyError,
    errors.RequestTimedOutError,
)


class _LoopThread:
    """An asyncio event loop on a daemon thread, driven from synchronous callers."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the loop and wait for its result (at most ``timeout`` seconds)."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("KafkaStore called from its own event loop thread (would deadlock)")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TopicError(f"Kafka operation timed out after {timeout:.0f}s") from None

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


async def _retry(
    op: Callable[[], Awaitable[T]], deadline: float, on_retry: Callable[[], Awaitable[Any]]
) -> T:
    """Run ``op``, retrying transient Kafka errors with exponential backoff until ``deadline``."""
    delay = 0.05
    while True:
        try:
            return await op()
        except _TRANSIENT:
            if time.monotonic() + delay > deadline:
                raise
        await asyncio.sleep(delay)  # backoff between attempts against a broker that is not ready
        delay = min(delay * 2, 1.0)
        await on_retry()


def _raise_for(code: int, what: str) -> None:
    if code:
        error = errors.for_code(code)
        raise error(what)


# -- Arrow <-> Kafka record batches ----------------------------------------------------------


@dataclass
class _Rows:
    """A produce batch normalised and sorted by partition (stable: input order per partition)."""

    partition: pa.Array
    timestamp: pa.Array
    key: pa.Array
    value: pa.Array
    headers: pa.Array


def _column(batch: pa.RecordBatch, name: str) -> pa.Array | None:
    index = batch.schema.get_field_index(name)
    return None if index < 0 else batch.column(index)


def _binary(col: pa.Array | None, n: int) -> pa.Array:
    if col is None:
        return pa.nulls(n, pa.binary())
    return col if col.type == pa.binary() else col.cast(pa.binary())


def _timestamps(col: pa.Array | None, n: int) -> pa.Array:
    now = pa.scalar(time.time_ns() // 1_000_000, pa.int64())
    if col is None:
        return pa.repeat(now, n)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.timestamp("ms")).view(pa.int64())
    col = col.cast(pa.int64())
    return col.fill_null(now) if col.null_count else col


def _partitions(col: pa.Array | None, key: pa.Array, count: int, rr: RoundRobin, topic: str) -> pa.Array:
    """Explicit partitions where given (range-checked), Kafka's partitioner elsewhere."""
    if col is None or col.null_count == len(col):
        return assign_partitions(key, count, rr)
    col = col.cast(pa.int32())
    lo, hi = (v.as_py() for v in pc.min_max(col).values())
    if lo < 0 or hi >= count:
        bad = lo if lo < 0 else hi
        raise TopicError(f"Partition {bad} out of range for topic '{topic}' ({count} partitions)")
    if col.null_count == 0:
        return col
    missing = pc.is_null(col)
    return pc.replace_with_mask(col, missing, assign_partitions(key.filter(missing), count, rr))


def _headers(col: pa.Array | None, n: int) -> pa.Array:
    """Headers as HEADER_TYPE; an empty list becomes null (Kafka cannot tell them apart)."""
    if col is None or col.null_count == n:
        return pa.nulls(n, HEADER_TYPE)
    col = col.cast(HEADER_TYPE)
    empty = pc.fill_null(pc.equal(pc.list_value_length(col), 0), False)
    return pc.if_else(empty, pa.nulls(n, HEADER_TYPE), col)


def _normalise(batch: pa.RecordBatch, count: int, rr: RoundRobin, topic: str) -> _Rows:
    n = batch.num_rows
    key = _binary(_column(batch, "key"), n)
    headers = _column(batch, "headers")
    cols = [
        _partitions(_column(batch, "partition"), key, count, rr, topic),
        _timestamps(_column(batch, "timestamp"), n),
        key,
        _binary(_column(batch, "value"), n),
        _headers(headers, n),
    ]
    if count > 1:
        order = pc.sort_indices(cols[0]).cast(pa.int64())  # stable sort keeps per-partition order
        cols = [c.take(order) for c in cols]
    return _Rows(*cols)


def _build_batches(rows: _Rows, new_builder: Callable[[], Any]) -> dict[int, list[Any]]:
    """Kafka record batches (aiokafka ``BatchBuilder``) per partition, filled in row order."""
    parts = rows.partition.to_pylist()
    keys, values, stamps = rows.key.to_pylist(), rows.value.to_pylist(), rows.timestamp.to_pylist()
    headers: list[Any] = [None] * len(parts)
    if rows.headers.null_count < len(rows.headers):
        headers = [
            None if h is None else [(e["key"], e["value"]) for e in h] for h in rows.headers.to_pylist()
        ]
    out: dict[int, list[Any]] = {}
    current: int = -1
    builder: Any = None
    for p, k, v, ts, h in zip(parts, keys, values, stamps, headers, strict=True):
        if p != current:
            current, builder = p, new_builder()
            out[p] = [builder]
        if builder.append(timestamp=ts, key=k, value=v, headers=h) is None:  # batch full
            builder = new_builder()
            out[p].append(builder)
            builder.append(timestamp=ts, key=k, value=v, headers=h)
    return out


def _sequence(start: int, count: int) -> pa.Array:
    """int64 ``start, start+1, ...`` without a Python loop."""
    ones = pa.repeat(pa.scalar(1, pa.int64()), count)
    return pc.add(pc.cumulative_sum(ones), pa.scalar(start - 1, pa.int64()))


def _stored(rows: _Rows, builders: dict[int, list[Any]], bases: dict[int, list[int]]) -> pa.RecordBatch:
    """The produced rows with the offsets Kafka assigned (each batch: base offset + index)."""
    pieces = [
        _sequence(base, builder.record_count())
        for p in sorted(builders)
        for builder, base in zip(builders[p], bases[p], strict=True)
    ]
    offsets = pa.concat_arrays(pieces)
    cols = [rows.partition, offsets, rows.timestamp, rows.key, rows.value, rows.headers]
    return pa.RecordBatch.from_arrays(cols, schema=RAW_SCHEMA)


def _decode(data: bytes, partition: int, offset: int) -> tuple[pa.RecordBatch, int]:
    """Fetched record batches as one RAW_SCHEMA batch (records before ``offset`` dropped), and
    the offset after the last batch seen (past control batches and compaction gaps).

    aiokafka's C ``DefaultRecordBatch`` parses (and decompresses) each Kafka batch; we only pull
    the fields into flat lists. Header lists are kept only for records that have headers: holding
    one list object per record makes the cyclic GC rescan them and costs ~20% of the decode.
    Control batches (transaction markers) are skipped.
    """
    offs: list[int] = []
    stamps: list[int] = []
    keys: list[bytes | None] = []
    values: list[bytes | None] = []
    headed: list[tuple[int, list[tuple[str, bytes | None]]]] = []  # (row, headers), sparse
    add_o, add_t, add_k, add_v = offs.append, stamps.append, keys.append, values.append
    records = MemoryRecords(data)
    next_offset = offset
    while records.has_next():
        batch = records.next_batch()
        if batch is None:
            break
        next_offset = max(next_offset, batch.next_offset)
        if getattr(batch, "is_control_batch", False):
            continue
        partial = batch.base_offset < offset  # only the first batch may start before ``offset``
        for r in batch:
            if partial and r.offset < offset:
                continue
            add_o(r.offset)
            add_t(r.timestamp)
            add_k(r.key)
            add_v(r.value)
            if r.headers:
                headed.append((len(offs) - 1, r.headers))
    return _columns(partition, offs, stamps, keys, values, headed), next_offset


def _columns(
    partition: int,
    offs: list[int],
    stamps: list[int],
    keys: list[bytes | None],
    values: list[bytes | None],
    headed: list[tuple[int, list[tuple[str, bytes | None]]]],
) -> pa.RecordBatch:
    n = len(offs)
    header_col = pa.nulls(n, HEADER_TYPE)
    if headed:
        rows: list[list[dict[str, Any]] | None] = [None] * n
        for row, pairs in headed:
            rows[row] = [{"key": k, "value": v} for k, v in pairs]
        header_col = pa.array(rows, HEADER_TYPE)
    cols = [
        pa.repeat(pa.scalar(partition, pa.int32()), n),
        pa.array(offs, pa.int64()),
        pa.array(stamps, pa.int64()),
        pa.array(keys, pa.binary()),
        pa.array(values, pa.binary()),
        header_col,
    ]
    return pa.RecordBatch.from_arrays(cols, schema=RAW_SCHEMA)


def _empty() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=RAW_SCHEMA)


class KafkaTopic:
    """One topic of a ``KafkaStore``; implements ``Topic``."""

    def __init__(self, store: KafkaStore, name: str, partitions: int) -> None:
        self._store = store
        self._name = name
        self._partitions = partitions
        self._round_robin = RoundRobin()
        self._buffers: dict[int, pa.RecordBatch] = {}  # decoded, not yet returned, per partition
        self._prefetch: dict[int, tuple[int, concurrent.futures.Future[bytes]]] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def partitions(self) -> int:
        return self._partitions

    def produce(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Append records; return them as stored (grouped by partition, offsets filled in).

        Missing timestamps become the current time; a null value is a tombstone. Records of one
        partition are written in order; a failure may leave earlier Kafka batches written.
        """
        if batch.num_rows == 0:
            return _empty()
        rows = _normalise(batch, self._partitions, self._round_robin, self._name)
        builders = _build_batches(rows, self._store._new_builder)
        bases = self._store._run(self._store._send(self._name, builders))
        return _stored(rows, builders, bases)

    def fetch(self, partition: int, offset: int, max_records: int = 10_000) -> pa.RecordBatch:
        """Records of ``partition`` from ``offset`` on (at most ``max_records``), RAW_SCHEMA."""
        if not 0 <= partition < self._partitions:
            raise TopicError(f"Partition {partition} out of range for topic '{self._name}'")
        if max_records <= 0:
            return _empty()
        with self._lock:
            batch = self._take_buffered(partition, offset, max_records)
            if batch is None:
                batch = self._fetch_remote(partition, offset, max_records)
            if batch.num_rows:
                self._start_prefetch(partition, int(batch.column(1)[-1].as_py()) + 1)
            return batch

    def _take_buffered(self, partition: int, offset: int, max_records: int) -> pa.RecordBatch | None:
        buffered = self._buffers.pop(partition, None)
        if buffered is None or buffered.num_rows == 0:
            return None
        offsets = buffered.column(1)
        if not offsets[0].as_py() <= offset <= offsets[-1].as_py():
            return None
        start = int(pc.sum(pc.less(offsets, offset)).as_py() or 0)  # offsets ascend; gaps allowed
        return self._split(partition, buffered.slice(start), max_records)

    def _split(self, partition: int, batch: pa.RecordBatch, max_records: int) -> pa.RecordBatch:
        if batch.num_rows > max_records:
            self._buffers[partition] = batch.slice(max_records)
            return batch.slice(0, max_records)
        return batch

    def _fetch_remote(self, partition: int, offset: int, max_records: int) -> pa.RecordBatch:
        store = self._store
        data = self._take_prefetched(partition, offset)
        while True:
            if not data:  # no read-ahead, or it found nothing: records may have arrived since
                offset, data = store._run(store._fetch_bytes(self._name, partition, offset))
            decoded, next_offset = _decode(data, partition, offset)
            # Only control batches (transaction markers) or compacted-away records: skip past them.
            if decoded.num_rows or next_offset <= offset:
                return self._split(partition, decoded, max_records)
            offset, data = next_offset, None

    def _take_prefetched(self, partition: int, offset: int) -> bytes | None:
        pending = self._prefetch.pop(partition, None)
        if pending is None:
            return None
        if pending[0] != offset:
            pending[1].cancel()
            return None
        try:
            return pending[1].result(self._store.request_timeout)
        except Exception:  # a failed read-ahead is simply redone in the foreground
            return None

    def _start_prefetch(self, partition: int, next_offset: int) -> None:
        if partition in self._buffers or partition in self._prefetch:
            return
        store = self._store
        coro = store._fetch_bytes(self._name, partition, next_offset, exact=True)
        future = asyncio.run_coroutine_threadsafe(_second(coro), store._loop.loop)
        self._prefetch[partition] = (next_offset, future)

    def end_offsets(self) -> list[int]:
        """The next offset to be written, per partition."""
        found = self._store._run(self._store._list_offsets(self._name, self._partitions, _LATEST))
        return [found[p] for p in range(self._partitions)]

    def _drop(self) -> None:
        with self._lock:
            for _, future in self._prefetch.values():
                future.cancel()
            self._prefetch.clear()
            self._buffers.clear()


async def _second(coro: Awaitable[tuple[int, bytes]]) -> bytes:
    return (await coro)[1]


class KafkaStore:
    """A ``TopicStore`` on a Kafka cluster.

    Args:
        bootstrap: ``host:port[,host:port...]`` of the cluster.
        client_id: client id the broker sees (logs, quotas).
        connect_timeout: how long to keep retrying (with backoff) when the broker is down at
            start; then ``TopicError`` says so.
        request_timeout: bound on every synchronous call (and aiokafka's own request timeout).
        fetch_max_bytes: bytes asked for per partition fetch (a batch larger than this is still
            returned whole by the broker).
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "streamsql",
        connect_timeout: float = 30.0,
        request_timeout: float = 60.0,
        fetch_max_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.request_timeout = request_timeout
        self.fetch_max_bytes = fetch_max_bytes
        self._topics: dict[str, KafkaTopic] = {}
        self._lock = threading.Lock()
        self._loop = _LoopThread(f"kafka-{client_id}")
        self._client: AIOKafkaClient
        self._admin: AIOKafkaAdminClient
        self._producer: AIOKafkaProducer
        self._cluster: ClusterMetadata | None = None  # for leader lookups; refreshed on errors
        try:
            self._loop.run(self._connect(connect_timeout), connect_timeout + request_timeout)
        except BaseException:
            self._loop.stop()
            raise

    # -- plumbing --------------------------------------------------------------------------

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop thread; Kafka errors become ``TopicError``."""
        try:
            return self._loop.run(coro, self.request_timeout)
        except errors.KafkaError as exc:
            raise TopicError(f"Kafka at {self.bootstrap}: {type(exc).__name__}: {exc}") from exc

    async def _connect(self, timeout: float) -> None:
        """Start the clients, retrying with exponential backoff while the broker is unreachable."""
        deadline = time.monotonic() + timeout
        delay, attempts = 0.1, 0
        while True:
            attempts += 1
            try:
                await self._start_clients()
                return
            except errors.KafkaError as exc:
                await self._close_clients()
                if time.monotonic() + delay > deadline:
                    raise TopicError(
                        f"Kafka broker at {self.bootstrap} is not reachable: gave up after {attempts} "
                        f"attempts in {timeout:.0f}s ({type(exc).__name__}: {exc})"
                    ) from exc
            await asyncio.sleep(delay)  # backoff before the next connection attempt
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
            **common, acks="all", enable_idempotence=True, max_batch_size=1_000_000, linger_ms=0
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
        return time.monotonic() + self.request_timeout

    async def _metadata(self) -> ClusterMetadata:
        """Fresh metadata of every topic (one Metadata request); also kept for leader lookups."""
        self._cluster = await self._client.fetch_all_metadata()
        return self._cluster

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
        """Submit every Kafka batch; per partition, the base offset of each, in order."""

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
                start = (await self._list_offsets(topic, partition + 1, _EARLIEST))[partition]
                if offset < start and not exact:
                    return await self._fetch_bytes(topic, partition, start)
                return offset, b""
            _raise_for(error_code, f"fetch {topic}-{partition}@{offset}")
            return offset, bytes(rest[-1] or b"")

        return await _retry(attempt, self._deadline(), self._refresh)

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
                        _raise_for(code, f"list offsets {topic}-{p}")
                        found[p] = int(info[1] if response.API_VERSION else info[0][0])
            return found

        return await _retry(attempt, self._deadline(), self._refresh)

    # -- TopicStore -------------------------------------------------------------------------

    def create_topic(self, config: TopicConfig) -> KafkaTopic:
        """Create a topic (or return the existing one, whose partition count wins)."""
        if config.partitions < 1 or config.replicas < 1:
            raise TopicError(f"Invalid partitions/replicas for topic '{config.name}'")
        count = self._run(self._create(config))
        return self._topic_object(config.name, count)

    async def _create(self, config: TopicConfig) -> int:
        extra = {"cleanup.policy": "compact"} if config.compacted else {}
        new = NewTopic(config.name, config.partitions, config.replicas, topic_configs=extra)
        response = await self._admin.create_topics([new])
        for row in response.topic_errors:
            if row[1] and row[1] != errors.TopicAlreadyExistsError.errno:
                message = row[2] if len(row) > 2 and row[2] else errors.for_code(row[1]).__name__
                raise TopicError(f"Cannot create topic '{config.name}': {message}")
        return await self._wait_partitions(config.name, present=True)

    async def _wait_partitions(self, name: str, *, present: bool) -> int:
        """Wait until metadata shows ``name`` with a leader per partition (or, not at all)."""
        deadline, delay = self._deadline(), 0.02
        while True:
            cluster = await self._metadata()
            parts = cluster.partitions_for_topic(name)
            if not present and not parts:
                return 0
            if (
                present
                and parts
                and all((cluster.leader_for_partition(TopicPartition(name, p)) or -1) >= 0 for p in parts)
            ):
                return len(parts)
            if time.monotonic() > deadline:
                state = "appear" if present else "disappear"
                raise TopicError(
                    f"Topic '{name}' did not {state} in metadata within {self.request_timeout:.0f}s"
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
        parts = self._run(self._metadata()).partitions_for_topic(name)
        if not parts:
            with self._lock:
                self._topics.pop(name, None)
            return None
        return self._topic_object(name, len(parts))

    def list_topics(self) -> list[str]:
        """Names of all topics except Kafka's internal ones (``__consumer_offsets``...), sorted."""
        return sorted(self._run(self._metadata()).topics(exclude_internal_topics=True))

    def delete_topic(self, name: str) -> None:
        """Delete a topic and its records; no error if absent. Returns once metadata agrees."""
        self._run(self._delete(name))
        with self._lock:
            topic = self._topics.pop(name, None)
        if topic is not None:
            topic._drop()

    async def _delete(self, name: str) -> None:
        response = await self._admin.delete_topics([name])
        for _, code, *_ in response.topic_error_codes:
            if code and code != errors.UnknownTopicOrPartitionError.errno:
                raise TopicError(f"Cannot delete topic '{name}': {errors.for_code(code).__name__}")
        await self._wait_partitions(name, present=False)

    def commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        """Store committed offsets (next offset to read) for ``group``, keyed (topic, partition)."""
        if offsets:
            self._run(self._commit(group, offsets))

    async def _commit(self, group: str, offsets: dict[tuple[str, int], int]) -> None:
        by_topic: dict[str, list[tuple[int, int, str]]] = {}
        for (topic, partition), offset in sorted(offsets.items()):
            by_topic.setdefault(topic, []).append((partition, offset, ""))
        request = OffsetCommitRequest(
            group, -1, "", OffsetCommitRequest.DEFAULT_RETENTION_TIME, list(by_topic.items())
        )

        async def attempt() -> None:
            response = await self._coordinator_send(group, request)
            for topic, rows in response.topics:
                for partition, code in rows:
                    _raise_for(code, f"commit {group} {topic}-{partition}")

        await _retry(attempt, self._deadline(), self._refresh)

    def committed(self, group: str, topic: str) -> dict[int, int]:
        """Committed offsets of ``group`` for ``topic``: partition -> next offset to read."""
        return self._run(self._committed(group, topic))

    async def _committed(self, group: str, topic: str) -> dict[int, int]:
        parts = (await self._metadata()).partitions_for_topic(topic)
        if not parts:
            return {}
        request = OffsetFetchRequest(group, [(topic, sorted(parts))])

        async def attempt() -> dict[int, int]:
            response = await self._coordinator_send(group, request)
            _raise_for(getattr(response, "error_code", 0), f"offsets of group {group}")
            found: dict[int, int] = {}
            for _, rows in response.topics:
                for partition, offset, _, code in rows:
                    _raise_for(code, f"offsets of group {group} {topic}-{partition}")
                    if offset >= 0:
                        found[partition] = int(offset)
            return found

        return await _retry(attempt, self._deadline(), self._refresh)

    async def _coordinator_send(self, group: str, request: Any) -> Any:
        node = await self._client.coordinator_lookup(_GROUP_COORDINATOR, group)
        return await self._client.send(node, request, group=ConnectionGroup.COORDINATION)

    def close(self) -> None:
        """Flush pending produce requests, close the clients and stop the loop thread."""
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


__all__ = ["HEADER_TYPE", "KafkaStore", "KafkaTopic"]
