"""Property test: windowed aggregates over random streams equal a batch computation.

Random keys (a few null), values and out-of-order timestamps go through a persistent windowed
COUNT/SUM/MIN/MAX query in random-sized batches. The oracle decides independently which
(record, window) pairs Kafka Streams accepts — a window takes a record while its end is after
stream time (the max timestamp seen, this record included) minus the grace period — and
aggregates the accepted pairs in one DuckDB GROUP BY. The engine's materialised table must
equal it exactly.
"""

from __future__ import annotations

import json
import random

import duckdb
import pyarrow as pa
import pytest

from engine.engine import Engine
from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig

GRACE = 5
WINDOWS = {
    "tumbling": ("TUMBLING (SIZE 10 MILLISECONDS, GRACE PERIOD 5 MILLISECONDS)", 10, 10),
    "hopping": ("HOPPING (SIZE 20 MILLISECONDS, ADVANCE BY 5 MILLISECONDS, GRACE PERIOD 5 MILLISECONDS)", 20, 5),
}


def _records(rng: random.Random, n: int) -> list[tuple[str | None, int, int]]:
    out = []
    clock = 0
    for _ in range(n):
        clock += rng.randint(0, 4)
        ts = max(0, clock - rng.choice([0, 0, 0, 3, 8, 15, 40]))  # mostly in order, some late
        key = None if rng.random() < 0.03 else f"k{rng.randint(0, 7)}"
        out.append((key, rng.randint(-50, 100), ts))
    return out


def _windows_of(ts: int, size: int, advance: int) -> list[int]:
    first = (max(0, ts - size + advance) // advance) * advance
    return list(range(first, ts + 1, advance))


def _oracle(records: list[tuple[str | None, int, int]], size: int, advance: int) -> list[tuple]:
    accepted = []
    stream_time = -1
    for key, value, ts in records:
        if key is None:
            continue  # a null GROUP BY key is dropped before the aggregation sees the record
        stream_time = max(stream_time, ts)
        for start in _windows_of(ts, size, advance):
            if start + size > stream_time - GRACE:
                accepted.append((key, start, start + size, value))
    con = duckdb.connect()
    con.register("acc", pa.table({"k": [a[0] for a in accepted], "ws": [a[1] for a in accepted],
                                  "we": [a[2] for a in accepted], "v": [a[3] for a in accepted]}))
    rows = con.sql("SELECT k, ws, we, count(*), sum(v), min(v), max(v) FROM acc GROUP BY ALL ORDER BY ALL").fetchall()
    con.close()
    return [tuple(r) for r in rows]


def _produce(engine: Engine, chunk: list[tuple[str | None, int, int]]) -> None:
    topic = engine.store.topic("events")
    assert topic is not None
    n = len(chunk)
    batch = pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int32()), pa.array([0] * n, pa.int64()), pa.array([c[2] for c in chunk], pa.int64()),
        pa.array([c[0].encode() if c[0] else None for c in chunk], pa.binary()),
        pa.array([json.dumps({"V": c[1]}).encode() for c in chunk], pa.binary()), pa.nulls(n, HEADER_TYPE),
    ], schema=RAW_SCHEMA)
    topic.produce(batch)


@pytest.mark.parametrize("kind", sorted(WINDOWS))
@pytest.mark.parametrize("seed", range(4))
def test_windowed_aggregates_equal_batch_oracle(kind: str, seed: int) -> None:
    window, size, advance = WINDOWS[kind]
    rng = random.Random(seed)
    records = _records(rng, 600)
    engine = Engine()
    engine.store.create_topic(TopicConfig("events", 1))
    engine.execute("CREATE STREAM events (k STRING KEY, v INT) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON');"
                   f"CREATE TABLE agg AS SELECT k, COUNT(*) AS n, SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi "
                   f"FROM events WINDOW {window} GROUP BY k;")
    i = 0
    while i < len(records):  # random batch boundaries exercise state carried between batches
        step = rng.randint(1, 80)
        _produce(engine, records[i:i + step])
        engine.run_until_idle()
        i += step
    got = engine.query("SELECT K, WINDOWSTART, WINDOWEND, N, S, LO, HI FROM agg ORDER BY ALL").rows
    engine.close()
    assert [tuple(r) for r in got] == _oracle(records, size, advance)
