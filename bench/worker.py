"""One measurement in its own process: ``python -m bench.worker '<spec JSON>'``.

A fresh process per measurement keeps peak RSS and CPU seconds attributable: the inputs are
written beforehand by the runner (another process), so generating them costs this process
nothing. The result is one JSON line on stdout.

Modes:
- ``engine``: open the store, create the workload's sources and query, then time
  ``Engine.run_until_idle`` until every input record is consumed (setup is not timed);
- ``raw-embedded``: the embedded log's I/O ceiling: fetch every input record in 50k batches
  (the engine's batch size) and touch the value bytes;
- ``raw-kafka``: the same over Kafka with ``AIOKafkaConsumer.getmany`` (aiokafka, the client
  the engine uses), touching every message's value;
- ``store-fetch``: ``KafkaStore.fetch``, the engine's own consume path, for reference;
- ``latency``: the engine on its background thread; with the embedded log the fixed-rate
  producer and the output reader run here too (see ``bench.latency``), with Kafka they run in
  the runner while this process waits for a line on stdin.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from bench import workloads
from bench.measure import RssSampler, Span, dir_mb, peak_rss_mb, rss_mb
from engine.engine import Engine
from engine.topics.base import TopicStore
from engine.topics.factory import open_store

FETCH_BATCH = 50_000


def _engine(spec: dict[str, Any], store: TopicStore) -> Engine:
    Path(spec["state_dir"]).mkdir(parents=True, exist_ok=True)
    # A service id per measurement: consumer groups (and so committed offsets) are never shared
    # between two measurements of the same query over the same input.
    engine = Engine(store, data_dir=spec["state_dir"], properties={"ksql.service.id": spec["out_prefix"]})
    for name, value in spec.get("duckdb", {}).items():
        engine.db.con.execute(f"SET {name} = '{value}'")
    sql = workloads.get(spec["workload"]).sql.format(p=spec["in_prefix"], o=spec["out_prefix"])
    engine.execute(sql)
    return engine


def run_engine(spec: dict[str, Any]) -> dict[str, Any]:
    """Time the workload's query over its pre-written input."""
    store = open_store(spec.get("kafka"), spec["store_dir"])
    engine = _engine(spec, store)
    expected, stall, limit = spec["events"], spec.get("stall_s", 30.0), spec.get("max_s", 3600.0)
    rss_start = rss_mb()
    sampler = RssSampler(spec.get("rss_interval", 0.5)).start() if spec.get("sample_rss") else None
    span, done, progress = Span().start(), 0, time.monotonic()
    began = time.monotonic()
    while done < expected and time.monotonic() - progress < stall and time.monotonic() - began < limit:
        n = engine.run_until_idle()
        done += n
        if n == 0:
            time.sleep(0.005)  # Kafka read-ahead in flight: nothing fetched yet
        else:
            progress = time.monotonic()
    span.stop()
    samples = sampler.stop() if sampler is not None else []
    out = sum(q.stats.records_out for q in engine.running.values())
    result = {"events": done, "wall_s": span.wall_s, "cpu_s": span.cpu_s, "peak_rss_mb": peak_rss_mb(),
              "rss_start_mb": rss_start, "rss_end_mb": rss_mb(), "records_out": out,
              "complete": done >= expected}
    engine.close()
    result["state_mb"] = dir_mb(spec["state_dir"])
    if samples:
        result["rss_samples"] = samples
    return result


def run_raw_embedded(spec: dict[str, Any]) -> dict[str, Any]:
    """Read every input record of the embedded log, as the engine's reader would."""
    store = open_store(None, spec["store_dir"])
    span, count, nbytes = Span().start(), 0, 0
    for name in spec["topics"]:
        topic = store.topic(name)
        assert topic is not None, name
        for p, end in enumerate(topic.end_offsets()):
            offset = 0
            while offset < end:
                batch = topic.fetch(p, offset, FETCH_BATCH)
                nbytes += pc.sum(pc.binary_length(batch.column("value"))).as_py() or 0
                count += batch.num_rows
                offset += batch.num_rows
    span.stop()
    store.close()
    return {"events": count, "bytes": nbytes, "wall_s": span.wall_s, "cpu_s": span.cpu_s,
            "peak_rss_mb": peak_rss_mb()}


async def _getmany(bootstrap: str, topics: list[str], total: int) -> int:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                fetch_max_bytes=16 * 2**20, max_partition_fetch_bytes=4 * 2**20)
    await consumer.start()
    tps = [TopicPartition(t, 0) for t in topics]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    count = nbytes = 0
    progress = time.monotonic()
    try:
        while count < total and time.monotonic() - progress < 30:
            for msgs in (await consumer.getmany(timeout_ms=2000, max_records=10_000)).values():
                count += len(msgs)
                nbytes += sum(len(m.value) for m in msgs if m.value is not None)
                progress = time.monotonic()
    finally:
        await consumer.stop()
    return count


def run_raw_kafka(spec: dict[str, Any]) -> dict[str, Any]:
    """Consume every input record with aiokafka's consumer (the Kafka I/O ceiling)."""
    span = Span().start()
    count = asyncio.run(_getmany(spec["kafka"], spec["topics"], spec["events"]))
    span.stop()
    return {"events": count, "wall_s": span.wall_s, "cpu_s": span.cpu_s, "peak_rss_mb": peak_rss_mb()}


def run_store_fetch(spec: dict[str, Any]) -> dict[str, Any]:
    """Consume every input record with ``KafkaStore.fetch`` (raw Arrow batches, no decode)."""
    store = open_store(spec["kafka"], None)
    span, count = Span().start(), 0
    for name in spec["topics"]:
        topic = store.topic(name)
        assert topic is not None, name
        end, offset = topic.end_offsets()[0], 0
        while offset < end:
            batch = topic.fetch(0, offset, FETCH_BATCH)
            count += batch.num_rows
            offset = int(batch.column(1)[-1].as_py()) + 1 if batch.num_rows else offset
    span.stop()
    store.close()
    return {"events": count, "wall_s": span.wall_s, "cpu_s": span.cpu_s, "peak_rss_mb": peak_rss_mb()}


def run_latency(spec: dict[str, Any]) -> dict[str, Any]:
    """The engine on its background thread while records arrive at a fixed rate."""
    from bench import latency

    store = open_store(spec.get("kafka"), spec["store_dir"])
    latency.create_inputs(store, spec)
    engine = _engine(spec, store)
    engine.start(**({"idle_wait": spec["idle_wait"]} if "idle_wait" in spec else {}))
    try:
        if spec.get("kafka"):
            print(json.dumps({"ready": True}), flush=True)
            sys.stdin.readline()  # the runner drives produce/consume and says when it is done
            result: dict[str, Any] = {}
        else:
            result = latency.drive(store, spec)
    finally:
        engine.stop()
    result["records_out"] = sum(q.stats.records_out for q in engine.running.values())
    engine.close()
    return result


MODES = {"engine": run_engine, "raw-embedded": run_raw_embedded, "raw-kafka": run_raw_kafka,
         "store-fetch": run_store_fetch, "latency": run_latency}


def main() -> None:
    spec = json.loads(sys.argv[1])
    result = MODES[spec["mode"]](spec)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
