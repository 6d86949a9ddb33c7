"""`make demo`: sample pageviews into the embedded log, a persistent query from queries/, results.

Runs entirely in-process on the embedded log under .streamsql/demo (no server, no Kafka).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from cli.render import render_result, render_summary
from engine import datagen
from engine.engine import Engine
from engine.topics.base import TopicConfig

QUERY_FILE = Path(__file__).resolve().parents[1] / "queries" / "pageviews_by_user.sql"


def main(records: int = 200_000, data_dir: str = ".streamsql/demo") -> None:
    """Generate, run, print."""
    shutil.rmtree(data_dir, ignore_errors=True)
    engine = Engine(data_dir=data_dir)
    try:
        topic = engine.store.create_topic(TopicConfig("pageviews", partitions=1))
        datagen.produce(topic, "pageviews", records)
        print(f"Generated {records:,} pageviews into the embedded log at {data_dir}/")
        print(f"Running {QUERY_FILE.relative_to(Path.cwd()) if QUERY_FILE.is_relative_to(Path.cwd()) else QUERY_FILE}:")
        for result in engine.execute(QUERY_FILE.read_text()):
            print("  " + render_summary(result))
        start = time.perf_counter()
        processed = engine.run_until_idle()
        elapsed = time.perf_counter() - start
        print(f"Processed {processed:,} records in {elapsed:.2f} s ({processed / max(elapsed, 1e-9):,.0f} records/s)")
        rows = engine.execute("SELECT * FROM pageviews_selected EMIT CHANGES LIMIT 10;")[0]
        print("First 10 rows of PAGEVIEWS_SELECTED:")
        print(render_result(rows))
        out = engine.store.topic("pageviews_selected")
        total = sum(out.end_offsets()) if out else 0
        print(f"PAGEVIEWS_SELECTED holds {total:,} records; processing-log entries: {engine.processing_log.count}")
    finally:
        engine.close()


if __name__ == "__main__":
    main()
