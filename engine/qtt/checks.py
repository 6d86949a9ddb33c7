"""Comparing a case's output topics and ``post`` conditions with what the engine produced."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import parser as sqlparser
from engine.catalog import Source
from engine.engine import Engine
from engine.qtt.records import decode_test_value, source_for_topic, values_equal
from engine.windowing_keys import split_windowed_key
from parser import statements as st


def _actual_records(engine: Engine, topic_name: str) -> list[dict[str, Any]]:
    topic = engine.store.topic(topic_name)
    if topic is None:
        return []
    source = source_for_topic(list(engine.catalog.sources.values()), topic_name)
    key_fmt = source.key_format if source else "KAFKA"
    value_fmt = source.value_format if source else "JSON"
    key_types = [c.type for c in source.key_columns] if source else []
    value_types = [c.type for c in source.value_columns] if source else []
    out: list[dict[str, Any]] = []
    for p in range(topic.partitions):
        batch = topic.fetch(p, 0, 10_000_000)
        for row in batch.to_pylist():
            key_bytes, window = row["key"], None
            if source is not None and source.window is not None and key_bytes is not None:
                key_bytes, window = split_windowed_key(key_bytes, source.window.kind, source.window.size_ms)
            rec = {"key": decode_test_value(key_bytes, key_fmt, key_types),
                   "value": decode_test_value(row["value"], value_fmt, value_types),
                   "timestamp": row["timestamp"], "partition": p}
            if window is not None:
                rec["window"] = window
            out.append(rec)
    return out


def _record_matches(exp: dict[str, Any], act: dict[str, Any]) -> bool:
    if not values_equal(exp.get("key"), act["key"]):
        return False
    if not values_equal(exp.get("value"), act["value"]):
        return False
    if exp.get("timestamp") is not None and int(exp["timestamp"]) != act["timestamp"]:
        return False
    window = exp.get("window")
    if window is not None:
        got = act.get("window")
        if got is None or int(window["start"]) != got["start"] or int(window["end"]) != got["end"]:
            return False
    return True


def _fmt(rec: dict[str, Any]) -> str:
    parts = [f"key={rec.get('key')!r}", f"value={rec.get('value')!r}"]
    if rec.get("timestamp") is not None:
        parts.append(f"ts={rec['timestamp']}")
    if rec.get("window") is not None:
        parts.append(f"window={rec['window']}")
    return "{" + ", ".join(parts) + "}"


def _per_key_match(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> bool:
    """Across partitions only per-key order is defined: compare each key's sequence."""
    def group(recs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        g: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in recs:
            g[repr(r.get("key"))].append(r)
        return g
    ge, ga = group(expected), group(actual)
    if ge.keys() != ga.keys():
        return False
    return all(len(ge[k]) == len(ga[k]) and all(_record_matches(e, a) for e, a in zip(ge[k], ga[k], strict=True))
               for k in ge)


def compare_outputs(engine: Engine, outputs: list[dict[str, Any]]) -> tuple[bool, str]:
    """Every expected output topic holds exactly the expected records, in order."""
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in outputs:
        by_topic[rec["topic"]].append(rec)
    for topic, expected in by_topic.items():
        actual = _actual_records(engine, topic)
        if len(actual) == len(expected) and all(_record_matches(e, a) for e, a in zip(expected, actual, strict=True)):
            continue
        if len(actual) == len(expected) and _per_key_match(expected, actual):
            continue
        for i, e in enumerate(expected):
            if i >= len(actual):
                return False, f"topic {topic}: missing record {i}: expected {_fmt(e)} (got {len(actual)} records)"
            if not _record_matches(e, actual[i]):
                return False, f"topic {topic}: record {i}: expected {_fmt(e)}, got {_fmt(actual[i])}"
        return False, f"topic {topic}: {len(actual) - len(expected)} extra records, first {_fmt(actual[len(expected)])}"
    return True, ""


def schema_columns(schema: str) -> list[tuple[str, st.SqlType, bool]] | None:
    """A schema text like ``ID INT KEY, NAME STRING`` as (name, type, is key); None if unparsable."""
    try:
        stmt = sqlparser.parse(f"CREATE STREAM X ({schema}) WITH (KAFKA_TOPIC='x', VALUE_FORMAT='JSON');")[0]
    except Exception:
        return None
    assert isinstance(stmt, st.CreateSource)
    return [(c.name, c.type, c.key or c.primary_key) for c in stmt.columns]


def _check_source(engine: Engine, want: dict[str, Any]) -> str | None:
    source: Source | None = engine.catalog.source(want["name"])
    if source is None:
        return f"post: source {want['name']} does not exist"
    if "type" in want and want["type"].upper() != source.kind:
        return f"post: {source.name} is a {source.kind}, expected {want['type']}"
    if "schema" in want:
        expected = schema_columns(want["schema"])
        actual = [(c.name, c.type, c.namespace == "KEY") for c in source.columns]
        if expected is not None and expected != actual:
            return f"post: {source.name} schema is {source.schema_text()}, expected {want['schema']}"
    for field, actual_fmt in (("keyFormat", source.key_format), ("valueFormat", source.value_format)):
        if field in want:
            fmt = want[field]["format"] if isinstance(want[field], dict) else want[field]
            if str(fmt).upper() != actual_fmt:
                return f"post: {source.name} {field} is {actual_fmt}, expected {fmt}"
    return None


def check_post(engine: Engine, post: dict[str, Any]) -> tuple[bool, str]:
    """The ``post`` block: sources (type, schema, formats) and topics (blacklist, partitions)."""
    for want in post.get("sources", []):
        problem = _check_source(engine, want)
        if problem:
            return False, problem
    topics = post.get("topics") or {}
    if isinstance(topics, dict):
        blacklist = topics.get("blacklist")
        if blacklist:
            bad = [t for t in engine.store.list_topics() if re.fullmatch(blacklist, t)]
            if bad:
                return False, f"post: unexpected topics {bad}"
        for want in topics.get("topics", []):
            topic = engine.store.topic(want["name"])
            if topic is None:
                return False, f"post: topic {want['name']} does not exist"
            if "partitions" in want and int(want["partitions"]) != topic.partitions:
                return False, f"post: topic {want['name']} has {topic.partitions} partitions"
    return True, ""
