"""Property test: session windows emit exactly what sequential session merging emits.

The oracle processes records one at a time as Kafka Streams' session aggregation does: a record
merges every live session of its key within the gap, each merged session is tombstoned (in
start order) and the merged session is emitted; a record whose merged session ends before
stream time minus grace minus gap is dropped, and sessions that old are expired. The engine's
changelog — every tombstone and update, in order — must equal the oracle's, whether its keys
take the in-order fast path or the wave path (streams here mix both).
"""

from __future__ import annotations

import json
import random
from collections import defaultdict

import pyarrow as pa
import pytest

from engine.engine import Engine
from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig

GAP, GRACE = 10, 20


def _oracle(records: list[tuple[str, int, int]]) -> list[tuple]:
    sessions: dict[str, list[list[int]]] = defaultdict(list)  # key -> [start, end, count, sum]
    out: list[tuple] = []
    stream_time = -1
    for key, value, ts in records:
        stream_time = max(stream_time, ts)
        close = stream_time - GRACE - GAP
        live = [s for s in sessions[key] if s[1] >= close]
        hits = sorted((s for s in live if s[1] >= ts - GAP and s[0] <= ts + GAP), key=lambda s: s[0])
        start = min([ts] + [s[0] for s in hits])
        end = max([ts] + [s[1] for s in hits])
        if end < close:
            continue  # late
        for s in hits:
            out.append((key, s[0], s[1], None))
            live.remove(s)
        merged = [start, end, 1 + sum(s[2] for s in hits), value + sum(s[3] for s in hits)]
        live.append(merged)
        sessions[key] = live
        out.append((key, start, end, (merged[2], merged[3])))
    return out


def _records(rng: random.Random, n: int) -> list[tuple[str, int, int]]:
    clock, out = 0, []
    for _ in range(n):
        clock += rng.choice([0, 1, 2, 5, 12, 30])
        jitter = rng.choice([0, 0, 0, 0, 4, 11, 25]) if rng.random() < 0.3 else 0  # some keys go out of order
        out.append((f"k{rng.randint(0, 5)}", rng.randint(1, 9), max(0, clock - jitter)))
    return out


def _engine_changelog(engine: Engine) -> list[tuple]:
    topic = engine.store.topic("SESSIONS")
    assert topic is not None
    rows = topic.fetch(0, 0, 1_000_000).to_pylist()
    out = []
    for r in rows:
        key = r["key"][:-16].decode()
        end, start = int.from_bytes(r["key"][-16:-8], "big"), int.from_bytes(r["key"][-8:], "big")
        value = json.loads(r["value"]) if r["value"] is not None else None
        out.append((key, start, end, (value["N"], value["S"]) if value else None))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_session_changelog_equals_sequential_merging(seed: int) -> None:
    rng = random.Random(seed)
    records = _records(rng, 300)
    engine = Engine()
    topic = engine.store.create_topic(TopicConfig("events", 1))
    engine.execute("CREATE STREAM events (k STRING KEY, v INT) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON');"
                   f"CREATE TABLE sessions AS SELECT k, COUNT(*) AS n, SUM(v) AS s FROM events "
                   f"WINDOW SESSION ({GAP} MILLISECONDS, GRACE PERIOD {GRACE} MILLISECONDS) GROUP BY k;")
    i = 0
    while i < len(records):
        chunk = records[i:i + rng.randint(1, 60)]
        n = len(chunk)
        topic.produce(pa.RecordBatch.from_arrays([
            pa.nulls(n, pa.int32()), pa.array([0] * n, pa.int64()), pa.array([c[2] for c in chunk], pa.int64()),
            pa.array([c[0].encode() for c in chunk], pa.binary()),
            pa.array([json.dumps({"V": c[1]}).encode() for c in chunk], pa.binary()), pa.nulls(n, HEADER_TYPE),
        ], schema=RAW_SCHEMA))
        engine.run_until_idle()
        i += n
    got = _engine_changelog(engine)
    engine.close()
    assert got == _oracle(records)
