"""Runs ksqlDB query-validation test cases against a fresh engine and reports pass/fail.

For each case: execute the statements (an expected exception must be raised by one of them,
with the expected type and message), produce the inputs in order (consecutive records of one
topic as one batch, then let every query drain them, so records of different topics keep their
relative order), then compare the records on each expected output topic in order (key, value,
timestamp and window where given) and run the ``post`` checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from engine.engine import Engine
from engine.errors import KsqlError, KsqlStatementError
from engine.qtt.checks import check_post, compare_outputs
from engine.qtt.loader import TestCase
from engine.qtt.records import encode_test_value, source_for_topic
from engine.qtt.rest import run_rest
from engine.topics.base import HEADER_TYPE, RAW_SCHEMA, TopicConfig, TopicStore
from engine.windowing_keys import windowed_key
from parser import ParseError

PARSE_FAILED = "io.confluent.ksql.parser.exception.ParseFailedException"
STATEMENT_EXC = "io.confluent.ksql.util.KsqlStatementException"
GENERIC_EXC = "io.confluent.ksql.util.KsqlException"


@dataclass(slots=True)
class CaseResult:
    """The outcome of one case."""

    case: TestCase
    passed: bool
    detail: str = ""
    seconds: float = 0.0


def _error_kind(err: Exception) -> str:
    if isinstance(err, ParseError):
        return PARSE_FAILED
    if isinstance(err, KsqlStatementError):
        return STATEMENT_EXC
    return GENERIC_EXC


def _matches_expected(err: Exception, expected: dict[str, Any]) -> tuple[bool, str]:
    kind = _error_kind(err)
    want = str(expected.get("type", ""))
    # KsqlStatementException is a KsqlException; ksqlDB's checks accept the subclass.
    type_ok = not want or want == kind or (want == GENERIC_EXC and kind == STATEMENT_EXC)
    message = str(getattr(err, "message", None) or err)
    msg_ok = str(expected.get("message", "")) in message
    if type_ok and msg_ok:
        return True, ""
    return False, f"expected {want}: {expected.get('message')!r}; got {kind}: {message!r}"


def _produce_inputs(engine: Engine, inputs: list[dict[str, Any]]) -> None:
    """Write inputs in order, draining the queries after each run of same-topic records."""
    i = 0
    while i < len(inputs):
        topic = inputs[i]["topic"]
        j = i
        while j < len(inputs) and inputs[j]["topic"] == topic:
            j += 1
        _produce_batch(engine, topic, inputs[i:j])
        engine.run_until_idle()
        i = j


def _produce_batch(engine: Engine, topic_name: str, records: list[dict[str, Any]]) -> None:
    topic = engine.store.topic(topic_name) or engine.store.create_topic(TopicConfig(topic_name))
    source = source_for_topic(list(engine.catalog.sources.values()), topic_name)
    key_fmt = source.key_format if source else "KAFKA"
    value_fmt = source.value_format if source else "JSON"
    key_types = [c.type for c in source.key_columns] if source else []
    value_types = [c.type for c in source.value_columns] if source else []
    keys = [_windowed(encode_test_value(r.get("key"), key_fmt, key_types), r.get("window")) for r in records]
    values = [encode_test_value(r.get("value"), value_fmt, value_types) for r in records]
    # ksqlDB's test driver pipes records without a timestamp at time 0.
    stamps = [int(r["timestamp"]) if r.get("timestamp") is not None else 0 for r in records]
    headers = [_headers(r.get("headers")) for r in records]
    n = len(records)
    batch = pa.RecordBatch.from_arrays([
        pa.array([r.get("partition") for r in records], pa.int32()), pa.array([0] * n, pa.int64()),
        pa.array(stamps, pa.int64()), pa.array(keys, pa.binary()), pa.array(values, pa.binary()),
        pa.array(headers, HEADER_TYPE),
    ], schema=RAW_SCHEMA)
    topic.produce(batch)


def _windowed(key: bytes | None, window: dict[str, Any] | None) -> bytes | None:
    """Inputs of windowed sources carry Kafka Streams' windowed key bytes."""
    if window is None:
        return key
    kind = "SESSION" if str(window.get("type", "")).lower() == "session" else "TUMBLING"
    return windowed_key(key, kind, int(window["start"]), int(window["end"]))


def _headers(raw: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    import base64
    return [{"key": h["KEY"] if "KEY" in h else h.get("key"),
             "value": base64.b64decode(v) if (v := h.get("VALUE", h.get("value"))) is not None else None}
            for h in raw]


def _create_topics(store: TopicStore, case: TestCase) -> None:
    for t in case.topics:
        store.create_topic(TopicConfig(t["name"], int(t.get("partitions", 1) or 1)))


def run_case(case: TestCase, store_factory: Callable[[], TopicStore] | None = None) -> CaseResult:
    """Run one case on a fresh engine (embedded in-memory log unless a store factory is given)."""
    start = time.perf_counter()
    props = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in case.properties.items()}
    engine = Engine(store_factory() if store_factory else None, properties=props, auto_create_topics=True)
    try:
        passed, detail = _run(engine, case)
    except Exception as err:  # a crash in the engine is a failed case, reported, not fatal
        passed, detail = False, f"crash: {type(err).__name__}: {err}"
    finally:
        engine.close()
    return CaseResult(case, passed, detail, time.perf_counter() - start)


def _run(engine: Engine, case: TestCase) -> tuple[bool, str]:
    _create_topics(engine.store, case)
    if case.responses is not None or case.rest_error is not None:
        ok, detail = run_rest(engine, case, _produce_inputs)
        if ok and case.outputs:
            return compare_outputs(engine, case.outputs)
        return ok, detail
    expected = case.expected_exception
    try:
        for text in case.statements:
            engine.execute(text)
    except (ParseError, KsqlError) as err:
        if expected is None:
            return False, f"statement failed: {type(err).__name__}: {getattr(err, 'message', err)}"
        return _matches_expected(err, expected)
    if expected is not None and not case.inputs:
        return False, f"expected {expected.get('type')}: {expected.get('message')!r}; nothing raised"
    _produce_inputs(engine, case.inputs)
    if expected is not None:
        return False, f"expected {expected.get('type')}: {expected.get('message')!r}; nothing raised"
    if case.outputs is not None:
        ok, detail = compare_outputs(engine, case.outputs)
        if not ok:
            return False, detail
    if case.post is not None:
        return check_post(engine, case.post)
    return True, ""
