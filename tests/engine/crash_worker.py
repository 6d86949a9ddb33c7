"""A worker process for restart tests: runs an engine on a data dir, one step at a time.

``python -m tests.engine.crash_worker DATA_DIR SQL_FILE`` executes the file's statements on a
fresh data dir (a restarted worker gets them back from the command log), then steps every
query, printing ``step N`` after each committed step, and ``done`` when no input is left.
The restart tests kill it with SIGKILL between two steps.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine.engine import Engine


def main(data_dir: str, sql_file: str) -> None:
    """Run the worker (see the module docstring)."""
    fresh = not (Path(data_dir) / "commands.jsonl").exists()
    engine = Engine(data_dir=data_dir, properties={"ksql.streams.max.poll.records": "100"})
    if fresh:
        engine.execute(Path(sql_file).read_text())
    while True:
        n = engine.run_once()
        print(f"step {n}", flush=True)
        if n == 0:
            break
    engine.close()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
