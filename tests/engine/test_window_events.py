"""The numpy events builder gives exactly the rows of ``AggregateSql.fast_events``.

Both run on the same decoded batches (random keys with nulls, tombstones, timestamps from
negative to large, two partitions); rows, order and column types must be identical.
"""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pytest

from engine.engine import Engine
from engine.operators.aggregate import AggregateProcessor
from engine.operators.window_events import WindowEvents
from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig

WINDOWS = {
    "tumbling": "WINDOW TUMBLING (SIZE 10 MILLISECONDS)",
    "hopping": "WINDOW HOPPING (SIZE 20 MILLISECONDS, ADVANCE BY 5 MILLISECONDS)",
    "hopping-uneven": "WINDOW HOPPING (SIZE 25 MILLISECONDS, ADVANCE BY 10 MILLISECONDS)",
    "unwindowed": "",
}


def _raw(rng: random.Random, n: int) -> pa.RecordBatch:
    keys, values, stamps, parts = [], [], [], []
    for _ in range(n):
        stamps.append(rng.choice([rng.randint(0, 40), rng.randint(0, 10**12), 0, 3]))
        parts.append(rng.randint(0, 1))
        keys.append(None if rng.random() < 0.1 else f"k{rng.randint(0, 5)}".encode())
        values.append(None if rng.random() < 0.05 else json.dumps({"V": rng.randint(-9, 9)}).encode())
    return pa.RecordBatch.from_arrays([
        pa.array(parts, pa.int32()), pa.array([0] * n, pa.int64()), pa.array(stamps, pa.int64()),
        pa.array(keys, pa.binary()), pa.array(values, pa.binary()), pa.nulls(n, HEADER_TYPE),
    ], schema=RAW_SCHEMA)


@pytest.mark.parametrize("window", sorted(WINDOWS))
def test_numpy_events_equal_the_sql_events(window: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[int] = []
    real = AggregateProcessor._step

    def both(self: AggregateProcessor, batch: pa.Table) -> tuple[pa.Table, bool]:
        assert self._fast_events is not None
        mine = self._fast_events(batch)
        sql = self._cursor.sql(self.sql.fast_events()).to_arrow_table()
        assert mine is not None
        assert mine.schema == sql.schema
        assert mine.to_pydict() == sql.to_pydict()
        compared.append(mine.num_rows)
        return real(self, batch)

    monkeypatch.setattr(AggregateProcessor, "_step", both)
    rng = random.Random(7)
    engine = Engine()
    try:
        engine.store.create_topic(TopicConfig("events", 2))
        engine.execute("CREATE STREAM events (k STRING KEY, v INT) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON');"
                       f"CREATE TABLE agg AS SELECT k, COUNT(*) AS n, MAX(v) AS hi FROM events {WINDOWS[window]} "
                       "GROUP BY k;")
        for _ in range(6):
            engine.store.topic("events").produce(_raw(rng, rng.randint(1, 200)))
            engine.run_until_idle()
    finally:
        engine.close()
    assert len(compared) >= 6 and sum(compared) > 300


def test_plans_that_need_sql_are_left_to_it() -> None:
    engine = Engine()
    try:
        engine.store.create_topic(TopicConfig("events", 1))
        engine.execute("CREATE STREAM events (k STRING KEY, v INT) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON');")
        cases = {
            "a WHERE": "SELECT k, COUNT(*) AS n FROM events WHERE v > 0 GROUP BY k",
            "a computed key": "SELECT UCASE(k) AS u, COUNT(*) AS n FROM events GROUP BY UCASE(k)",
            "a computed argument": "SELECT k, SUM(v + 1) AS s FROM events GROUP BY k",
            "a session window": "SELECT k, COUNT(*) AS n FROM events WINDOW SESSION (10 MILLISECONDS) GROUP BY k",
        }
        for i, (why, query) in enumerate(cases.items()):
            engine.execute(f"CREATE TABLE t{i} AS {query};")
        processors = [q.processor for q in engine.running.values()]
        assert len(processors) == len(cases)
        for processor, why in zip(processors, cases, strict=True):
            assert isinstance(processor, AggregateProcessor)
            assert processor._fast_events is None, why
            assert WindowEvents.for_plan(processor._plan, processor.sql.keys) is None, why
    finally:
        engine.close()
