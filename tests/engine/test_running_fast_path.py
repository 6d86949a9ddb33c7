"""The numpy running-aggregate path emits exactly what the general SQL step emits.

Same random input (null keys and values, late and out-of-order records, random batch
boundaries), same query, run once with the fast path and once with it switched off: the output
topics must be equal record for record (keys, values, timestamps, order).
"""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pytest

from engine.engine import Engine
from engine.operators.aggregate_sql import AggregateSql
from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig

QUERIES = {
    "tumbling": "SELECT k, COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS s, MIN(v) AS lo, MAX(b) AS hi FROM events "
                "WINDOW TUMBLING (SIZE 10 MILLISECONDS, GRACE PERIOD 5 MILLISECONDS) GROUP BY k",
    "hopping": "SELECT k, COUNT(*) AS n, SUM(b) AS s, MIN(b) AS lo FROM events "
               "WINDOW HOPPING (SIZE 20 MILLISECONDS, ADVANCE BY 5 MILLISECONDS, GRACE PERIOD 5 MILLISECONDS) GROUP BY k",
    "two-keys-having": "SELECT k, g, COUNT(*) AS n, MAX(v) AS hi FROM events "
                       "WINDOW TUMBLING (SIZE 40 MILLISECONDS) GROUP BY k, g HAVING COUNT(*) % 3 <> 1",
    "unwindowed": "SELECT g, SUM(v) AS s, COUNT(*) AS n, MIN(v) AS lo FROM events WHERE v IS NULL OR v > -40 GROUP BY g",
}


def _batch(rng: random.Random, clock: int, n: int) -> tuple[pa.RecordBatch, int]:
    keys, values, stamps = [], [], []
    for _ in range(n):
        clock += rng.randint(0, 4)
        stamps.append(max(0, clock - rng.choice([0, 0, 0, 3, 8, 15, 40])))
        keys.append(None if rng.random() < 0.03 else f"k{rng.randint(0, 7)}".encode())
        v = None if rng.random() < 0.1 else rng.randint(-50, 100)
        values.append(json.dumps({"V": v, "B": rng.randint(-2**40, 2**40), "G": rng.randint(0, 2)}).encode())
    batch = pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int32()), pa.array([0] * n, pa.int64()), pa.array(stamps, pa.int64()),
        pa.array(keys, pa.binary()), pa.array(values, pa.binary()), pa.nulls(n, HEADER_TYPE),
    ], schema=RAW_SCHEMA)
    return batch, clock


def _run(query: str, seed: int) -> list[tuple]:
    rng = random.Random(seed)
    engine = Engine()
    engine.store.create_topic(TopicConfig("events", 1))
    engine.execute("CREATE STREAM events (k STRING KEY, v INT, b BIGINT, g INT) "
                   "WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON');"
                   f"CREATE TABLE agg WITH (KAFKA_TOPIC='out', KEY_FORMAT='JSON') AS {query};")
    clock = 0
    for _ in range(12):  # state carried across random batch boundaries
        batch, clock = _batch(rng, clock, rng.randint(1, 120))
        engine.store.topic("events").produce(batch)
        engine.run_until_idle()
    out = engine.store.topic("out").fetch(0, 0, 1_000_000)
    engine.close()
    return list(zip(*(out.column(c).to_pylist() for c in ("key", "value", "timestamp")), strict=True))


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("seed", range(3))
def test_fast_path_changelog_equals_the_general_step(name: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = AggregateSql.fold_prepared
    monkeypatch.setattr(AggregateSql, "fold_prepared", lambda self, p: calls.append(p) or real(self, p))
    fast = _run(QUERIES[name], seed)
    assert calls, "the fast path did not run"
    monkeypatch.setattr(AggregateSql, "fast_runs", lambda self: None)
    general = _run(QUERIES[name], seed)
    assert len(general) > 100
    assert fast == general
