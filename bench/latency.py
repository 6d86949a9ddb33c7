"""End-to-end latency at a fixed input rate: produce time -> output arrival.

Design: records are produced at a fixed rate in small slices (every ``TICK`` seconds, as many as
are due so the average rate holds through jitter), each slice stamped with the wall clock at
produce time as its record timestamp. The engine runs on its background thread
(``Engine.start``) with its default idle wait. An output record carries the timestamp of the
input that caused it (ksqlDB: a stream's ROWTIME passes through; an EMIT CHANGES aggregate's
change carries its input's time), so its latency is its arrival time at a reader polling the
output topic minus its record timestamp; both clocks are this machine's ``time.time()``.
Timestamps are whole milliseconds (rounded), so each figure is +-0.5 ms. Outputs of records
produced during the warm-up are left out.

With the embedded log the producer, the engine and the reader share one process (an embedded
store belongs to one process); with Kafka the producer and reader run in the runner's process and
the engine in its own.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pyarrow as pa

from bench import datasets
from bench import generators as gen
from bench.workloads import Workload, get
from engine.topics.base import TopicConfig, TopicStore

TICK = 0.005
DRAIN_S = 3.0


def create_inputs(store: TopicStore, spec: dict[str, Any]) -> None:
    """Create the workload's (empty) input topics; load a table side (users) in full."""
    wl = get(spec["workload"])
    for part in wl.inputs:
        topic = store.create_topic(TopicConfig(spec["in_prefix"] + part, partitions=1))
        if part == "users":
            topic.produce(gen.users(datasets.USERS))


def _pools(wl: Workload, records: int) -> dict[str, pa.RecordBatch]:
    """Pre-generated inputs per streamed part (generation must not compete with the run)."""
    parts = [p for p in wl.inputs if p != "users"]
    if wl.family == "nexmark":
        share = sum(datasets.NEXMARK_SHARE[p] for p in parts)
        return gen.nexmark(0, int(records / share) + 50, parts=tuple(parts))
    return {"pageviews": gen.pageviews(0, records, users=datasets.USERS, distinct=wl.family == "distinct")}


def _shares(wl: Workload, parts: list[str]) -> dict[str, float]:
    if wl.family != "nexmark":
        return {p: 1.0 for p in parts}
    total = sum(datasets.NEXMARK_SHARE[p] for p in parts)
    return {p: datasets.NEXMARK_SHARE[p] / total for p in parts}


class _Reader(threading.Thread):
    """Polls the output topic; keeps (record timestamp, arrival ms) per output record."""

    def __init__(self, store: TopicStore, name: str) -> None:
        super().__init__(name="latency-reader", daemon=True)
        self.store, self.name_ = store, name
        self.stop_event = threading.Event()
        self.stamps: list[np.ndarray] = []
        self.arrivals: list[np.ndarray] = []
        self.last_arrival = time.time()

    def run(self) -> None:
        topic = None
        while topic is None and not self.stop_event.is_set():
            topic = self.store.topic(self.name_)
            time.sleep(0.01)
        offset = 0
        while topic is not None and not self.stop_event.is_set():
            batch = topic.fetch(0, offset, 50_000)
            if batch.num_rows == 0:
                time.sleep(0.001)
                continue
            now = time.time() * 1000
            offset = int(batch.column(1)[-1].as_py()) + 1
            ts = batch.column(2).to_numpy()
            self.stamps.append(ts)
            self.arrivals.append(np.full(len(ts), now))
            self.last_arrival = time.time()


def _produce(store: TopicStore, spec: dict[str, Any], pools: dict[str, pa.RecordBatch],
             shares: dict[str, float]) -> tuple[float, int]:
    """Produce at ``spec['rate']`` records/s for warm-up + duration; returns (start, records)."""
    rate, until = spec["rate"], spec["warmup_s"] + spec["duration_s"]
    topics = {p: store.topic(spec["in_prefix"] + p) for p in pools}
    done = dict.fromkeys(pools, 0)
    start = time.time()
    while (now := time.time()) - start < until:
        due = rate * (now - start)
        stamp = pa.array(np.full(1, round(now * 1000), dtype=np.int64))
        for part, pool in pools.items():
            n = min(int(due * shares[part]) - done[part], pool.num_rows - done[part])
            if n <= 0:
                continue
            # take, not slice: the embedded log writes a sliced batch's whole buffers (a 50-record
            # slice of a 100k pool became a 745 KB segment file), filling the disk in minutes.
            chunk = pool.take(pa.array(np.arange(done[part], done[part] + n)))
            chunk = chunk.set_column(2, "timestamp", pa.repeat(stamp[0], n).cast(pa.int64()))
            topics[part].produce(chunk)  # type: ignore[union-attr]
            done[part] += n
        time.sleep(max(0.0, TICK - (time.time() - now)))
    return start, sum(done.values())


def drive(store: TopicStore, spec: dict[str, Any]) -> dict[str, Any]:
    """Produce at the fixed rate, read the outputs, and summarise latencies."""
    wl = get(spec["workload"])
    pools = _pools(wl, int(spec["rate"] * (spec["warmup_s"] + spec["duration_s"]) * 1.05) + 1000)
    shares = _shares(wl, list(pools))
    reader = _Reader(store, spec["out_prefix"] + wl.sink)
    reader.start()
    start, produced = _produce(store, spec, pools, shares)
    produced_until = time.time()
    while time.time() - reader.last_arrival < 1.0 and time.time() - produced_until < DRAIN_S:
        time.sleep(0.05)
    reader.stop_event.set()
    reader.join()
    return summarise(reader, start + spec["warmup_s"], produced, time.time() - start, spec)


def summarise(reader: _Reader, measure_from: float, produced: int, elapsed: float,
              spec: dict[str, Any]) -> dict[str, Any]:
    """p50/p99/max over outputs whose input was produced after the warm-up."""
    result: dict[str, Any] = {"latency_rate_eps": spec["rate"], "latency_inputs": produced,
                              "latency_achieved_eps": round(produced / max(elapsed, 1e-9))}
    if not reader.stamps:
        return {**result, "latency_outputs": 0}
    ts, arrival = np.concatenate(reader.stamps), np.concatenate(reader.arrivals)
    keep = ts >= measure_from * 1000
    lat = arrival[keep] - ts[keep]
    if len(lat) == 0:
        return {**result, "latency_outputs": 0}
    p50, p99 = np.percentile(lat, [50, 99])
    return {**result, "latency_outputs": int(len(lat)), "latency_p50_ms": round(float(p50), 2),
            "latency_p99_ms": round(float(p99), 2), "latency_max_ms": round(float(lat.max()), 2)}
