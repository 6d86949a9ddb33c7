"""Consume-path benchmark: how fast records get from a real broker into Arrow.

``python -m tools.kafka.bench [--bootstrap HOST:PORT] [--records N] [--partitions P] [--rounds R]``

Without ``--bootstrap`` a throwaway broker is started (``tools/kafka/broker.py``) and stopped.
One topic gets N records of ~100-byte JSON values (written with ``KafkaStore.produce``), then
each consume path reads all of it, best of R rounds:

- ``raw-bytes``: FetchRequests only, record batches walked but not decoded (the I/O ceiling);
- ``raw-decode``: the same plus aiokafka's C record iteration, no columns built;
- ``store-fetch``: ``KafkaStore.fetch`` (direct FetchRequest, C decode into Arrow, read-ahead);
- ``getmany-count``: ``AIOKafkaConsumer.getmany`` only counting messages;
- ``getmany-arrow``: ``getmany`` plus building the same Arrow columns from ``ConsumerRecord``s.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable

import pyarrow as pa
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.memory_records import MemoryRecords

from engine.topics.base import TopicConfig
from engine.topics.kafka import KafkaStore
from tools.kafka.broker import KafkaBroker

VALUE = b'{"auction":1000,"bidder":2001,"price":1234,"channel":"Google","url":"https://x.example/a","ts":1}'
FETCH_BYTES = 4 * 1024 * 1024


def produce(store: KafkaStore, topic: str, records: int, partitions: int) -> float:
    """Write ``records`` keyed records with ``KafkaStore.produce``; returns records/s."""
    handle = store.create_topic(TopicConfig(topic, partitions=partitions))
    size = 10_000
    keys = pa.array([b"bidder-%d" % i for i in range(size)], pa.binary())
    batch = pa.RecordBatch.from_pydict({"key": keys, "value": pa.array([VALUE] * size, pa.binary())})
    began = time.perf_counter()
    for _ in range(records // size):
        handle.produce(batch)
    return (records // size) * size / (time.perf_counter() - began)


def store_fetch(store: KafkaStore, topic: str) -> int:
    handle = store.topic(topic)
    assert handle is not None
    count = 0
    for p, end in enumerate(handle.end_offsets()):
        offset = 0
        while offset < end:
            batch = handle.fetch(p, offset, 10_000)
            count += batch.num_rows
            offset = batch.column(1)[-1].as_py() + 1
    return count


async def raw(bootstrap: str, topic: str, partitions: int, decode: bool) -> int:
    """FetchRequests straight to the leader; optionally iterate the records (C decoder)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    cluster = await client.fetch_all_metadata()
    count = 0
    try:
        for p in range(partitions):
            leader = cluster.leader_for_partition(TopicPartition(topic, p))
            offset = 0
            while True:
                request = FetchRequest(0, 1, FETCH_BYTES, 0, [(topic, [(p, offset, FETCH_BYTES)])])
                data = (await client.send(leader, request)).topics[0][1][0][-1]
                records, start = MemoryRecords(data), offset
                while records.has_next():
                    batch = records.next_batch()
                    if decode:
                        for _ in batch:
                            pass
                    offset = batch.next_offset
                if offset == start:
                    break
                count += offset - start
    finally:
        await client.close()
    return count


async def getmany(bootstrap: str, topic: str, partitions: int, total: int, arrow: bool) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_bytes=4 * FETCH_BYTES,
        max_partition_fetch_bytes=FETCH_BYTES,
    )
    await consumer.start()
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    count = 0
    try:
        while count < total:
            for msgs in (await consumer.getmany(timeout_ms=2000, max_records=10_000)).values():
                count += len(msgs)
                if arrow:
                    pa.RecordBatch.from_arrays(
                        [
                            pa.array([m.offset for m in msgs], pa.int64()),
                            pa.array([m.timestamp for m in msgs], pa.int64()),
                            pa.array([m.key for m in msgs], pa.binary()),
                            pa.array([m.value for m in msgs], pa.binary()),
                        ],
                        names=["offset", "timestamp", "key", "value"],
                    )
    finally:
        await consumer.stop()
    return count


def best_rate(run: Callable[[], int], rounds: int) -> float:
    rates = []
    for _ in range(rounds):
        began = time.perf_counter()
        count = run()
        rates.append(count / (time.perf_counter() - began))
    return max(rates)


def bench(bootstrap: str, records: int, partitions: int, rounds: int) -> dict[str, float]:
    """Produce once, then time every consume path; records/s per path."""
    topic = f"bench-{partitions}p-{time.time_ns()}"
    store = KafkaStore(bootstrap, client_id="bench")
    results = {"produce (KafkaStore)": produce(store, topic, records, partitions)}
    total = sum(store.topic(topic).end_offsets())  # type: ignore[union-attr]

    def sync(coro: Callable[[], Awaitable[int]]) -> Callable[[], int]:
        return lambda: asyncio.run(coro())  # type: ignore[arg-type]

    paths: dict[str, Callable[[], int]] = {
        "raw-bytes": sync(lambda: raw(bootstrap, topic, partitions, False)),
        "raw-decode": sync(lambda: raw(bootstrap, topic, partitions, True)),
        "store-fetch": lambda: store_fetch(store, topic),
        "getmany-count": sync(lambda: getmany(bootstrap, topic, partitions, total, False)),
        "getmany-arrow": sync(lambda: getmany(bootstrap, topic, partitions, total, True)),
    }
    try:
        for name, run in paths.items():
            results[name] = best_rate(run, rounds)
    finally:
        store.delete_topic(topic)
        store.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.kafka.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", help="an existing broker (default: start a throwaway one)")
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = None
    broker = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        workdir = tempfile.mkdtemp(prefix="kafka-bench-")
        broker = KafkaBroker(workdir, die_with_parent=True)
        bootstrap = broker.start()
    try:
        results = bench(bootstrap, args.records, args.partitions, args.rounds)
    finally:
        if broker is not None:
            broker.stop()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"{args.records} records of {len(VALUE)} B values, {args.partitions} partition(s), best of {args.rounds}"
    )
    for name, rate in results.items():
        print(f"  {name:<22} {rate / 1e6:6.2f} M records/s")


if __name__ == "__main__":
    main()
