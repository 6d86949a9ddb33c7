"""The peer baseline: the pageviews tumbling count in Quix Streams, against the same broker.

Runs in its own virtualenv (``bench/requirements-quix.txt``: Quix pins an older confluent-kafka
than the project's dev dependencies), so it imports only the standard library and quixstreams::

    quix-venv/bin/python bench/peer_quix.py --broker HOST:PORT --input T --output T --count N

The same semantics as the engine's ``pageviews-tumbling-count``: input keyed by user, JSON values,
a 1-minute tumbling COUNT per key with ksqlDB's default 24-hour grace, one change per input
record (``.current()``, like EMIT CHANGES) serialised as JSON to an output topic. State is local
only (``use_changelog_topics=False``), as the engine keeps its state in a local DuckDB file; the
other settings are Quix defaults (at-least-once, 5 s commit interval).

Timing starts at the first message (group join and setup excluded, as the engine's setup is)
and ends when ``Application.run`` returns after the N-th output (final commit included).
Prints one JSON line: events, wall_s, cpu_s (all threads, this process), peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from typing import Any


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork+exec from the (large) runner.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from quixstreams import Application

    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--group", required=True)
    args = parser.parse_args()

    app = Application(broker_address=args.broker, consumer_group=args.group, auto_offset_reset="earliest",
                      state_dir=args.state_dir, use_changelog_topics=False, loglevel=logging.WARNING)
    source = app.topic(args.input, key_deserializer="str", value_deserializer="json")
    sink = app.topic(args.output, key_serializer="str", value_serializer="json")
    first: dict[str, float] = {}

    def mark(value: Any) -> None:
        if not first:
            first.update(wall=time.perf_counter(), cpu=_cpu())

    sdf = app.dataframe(source)
    sdf = sdf.update(mark)
    sdf = sdf.tumbling_window(duration_ms=60_000, grace_ms=24 * 3600 * 1000).count().current()
    sdf.to_topic(sink)
    app.run(count=args.count, collect=False)
    wall, cpu = time.perf_counter() - first["wall"], _cpu() - first["cpu"]
    print(json.dumps({"events": args.count, "wall_s": wall, "cpu_s": cpu,
                      "peak_rss_mb": _peak_rss_mb()}), flush=True)


if __name__ == "__main__":
    main()
