"""`streamsql datagen`: sample records into a topic (embedded log or Kafka), like ksql-datagen.

With ``--rate`` records are paced at that many per second (and time-stamped now), until
``--count`` or Ctrl-C; without it, ``--count`` records (default 10,000) are written at once.
The embedded log allows one process per data dir: generate before starting `run`/`server` on
the same dir, or use Kafka.
"""

from __future__ import annotations

import argparse
import sys
import time

from cli.generators import generate, quickstarts, topics_for
from cli.options import add_store_args
from engine.topics.base import Topic, TopicConfig, TopicStore
from engine.topics.factory import kafka_from_env, open_store

TICKS_PER_SECOND = 10


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the `datagen` subcommand."""
    p = sub.add_parser("datagen", help="generate sample data (pageviews, users, orders, clickstream, nexmark)")
    p.add_argument("--quickstart", required=True, choices=quickstarts())
    p.add_argument("--topic", help="target topic (default: the quickstart's name; nexmark writes "
                                    "TOPIC_person, TOPIC_auction and TOPIC_bid)")
    p.add_argument("--rate", type=float, help="records per second (default: as fast as possible)")
    p.add_argument("--count", type=int, help="records to write (default 10,000; unlimited with --rate)")
    p.add_argument("--partitions", type=int, default=1, help="partitions of topics that do not exist yet")
    p.add_argument("--seed", type=int, default=42)
    add_store_args(p)
    p.set_defaults(func=run)


def _topics(store: TopicStore, names: list[str], partitions: int) -> list[Topic]:
    out = []
    for name in names:
        topic = store.topic(name) or store.create_topic(TopicConfig(name, partitions=partitions))
        out.append(topic)
    return out


def _produce(topics: dict[str, Topic], name: str, start: int, count: int, seed: int, t0: int,
             step_ms: int) -> None:
    for suffix, batch in generate(name, count, start=start, seed=seed, t0=t0, step_ms=step_ms).items():
        if batch.num_rows:
            topics[suffix].produce(batch)


def _bulk(topics: dict[str, Topic], args: argparse.Namespace, count: int) -> int:
    written, t0 = 0, int(time.time() * 1000) - count * 10
    while written < count:
        n = min(50_000, count - written)
        _produce(topics, args.quickstart, written, n, args.seed, t0, 10)
        written += n
    return written


def _paced(topics: dict[str, Topic], args: argparse.Namespace, count: int | None) -> int:
    """``--rate`` records per second, written each tick as they fall due; event time follows the
    wall clock."""
    step_ms = max(1, int(1000 / args.rate))
    written, start, t0 = 0, time.monotonic(), int(time.time() * 1000)
    try:
        while count is None or written < count:
            due = int((time.monotonic() - start) * args.rate) + 1
            n = due - written if count is None else min(due, count) - written
            if n > 0:
                _produce(topics, args.quickstart, written, n, args.seed, t0, step_ms)
                written += n
            time.sleep(1 / TICKS_PER_SECOND)  # pacing, not synchronisation
    except KeyboardInterrupt:
        pass
    return written


def run(args: argparse.Namespace) -> int:
    """Entry point of `streamsql datagen`."""
    if args.rate is not None and args.rate <= 0:
        print("--rate must be positive", file=sys.stderr)
        return 2
    base = args.topic or args.quickstart
    names = topics_for(args.quickstart, base)
    store = open_store(kafka_from_env(args.kafka), args.data_dir)
    try:
        topics = dict(zip(("person", "auction", "bid") if args.quickstart == "nexmark" else ("",),
                          _topics(store, names, args.partitions), strict=True))
        count = args.count if args.count is not None else (None if args.rate else 10_000)
        written = _paced(topics, args, count) if args.rate else _bulk(topics, args, count or 0)
    finally:
        store.close()
    print(f"Wrote {written:,} {args.quickstart} records to {', '.join(names)}.")
    return 0
