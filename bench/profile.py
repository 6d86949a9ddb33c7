"""Profiles of the hot paths: ``python -m bench.profile [--backend ...] [--workloads ...] [--base N]``.

Runs the ``engine`` measurement of each workload under py-spy (sampling, Python stacks; time in
DuckDB, Arrow or aiokafka's C code is charged to the Python line that called it) and writes a
summary per workload to ``bench/results/profiles/<workload>-<backend>.md``: the share of samples
per function (inclusive) and per line (self), counting only the main thread's samples inside
``Engine.run_until_idle`` (setup excluded), plus the share of other threads (aiokafka's loop).
The raw collapsed stacks stay under ``.work/bench/`` (flamegraph.pl or speedscope read them).
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench import datasets, run, workers
from bench.backends import Backend
from bench.workloads import get

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:]*):(?P<line>\d+)\)$")
ROOT_MARK = "run_until_idle"


def _short(path: str) -> str:
    path = path.replace(str(workers.REPO) + "/", "")
    return re.sub(r".*site-packages/", "", path)


def parse(raw: str) -> tuple[Counter[str], Counter[str], int, int]:
    """(inclusive per function, self per line, samples in the engine, other samples)."""
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inside = outside = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        names = [f.split(" (")[0] for f in frames]
        if not any(n.endswith(ROOT_MARK) for n in names):
            outside += count
            continue
        inside += count
        seen: set[str] = set()
        start = max(i for i, n in enumerate(names) if n.endswith(ROOT_MARK))
        for frame in frames[start:]:
            m = _FRAME.match(frame)
            key = f"{m['func']} ({_short(m['file'])})" if m else frame
            if key not in seen:
                seen.add(key)
                inclusive[key] += count
        m = _FRAME.match(frames[-1])
        self_time[f"{m['func']} ({_short(m['file'])}:{m['line']})" if m else frames[-1]] += count
    return inclusive, self_time, inside, outside


def summary(name: str, backend: str, raw: str, measured: dict[str, Any], top: int = 25) -> str:
    """Markdown summary of one profile."""
    inclusive, self_time, inside, outside = parse(raw)
    total = max(1, inside)
    lines = [f"# Profile: {name} on {backend} ({time.strftime('%Y-%m-%d %H:%M')})", "",
             f"{inside} samples in `Engine.run_until_idle` (main thread), {outside} elsewhere (other threads, "
             f"setup). Under py-spy: {measured.get('events'):,} events, "
             f"{float(measured.get('events_per_cpu_s') or 0):,.0f} events/CPU-s "
             "(sampling slows the process; use the shares, not the rate).", "",
             "## Inclusive (function and everything it calls)", "", "| share | function |", "|---|---|"]
    lines += [f"| {100 * c / total:.1f}% | `{k}` |" for k, c in inclusive.most_common(top)]
    lines += ["", "## Self (the Python line running or calling into C)", "", "| share | line |", "|---|---|"]
    lines += [f"| {100 * c / total:.1f}% | `{k}` |" for k, c in self_time.most_common(top)]
    return "\n".join(lines) + "\n"


def profile(backend: Backend, name: str, base: int, out: Path, rate: int) -> Path:
    """Profile one workload; returns the summary's path."""
    wl = get(name)
    dataset = datasets.for_workload(wl, base)
    events = backend.ensure(dataset, wl.inputs)
    state = run.WORK / "profile-state" / f"{backend.name}-{name}-{time.time_ns()}"
    raw_path = run.WORK / f"profile-{name}-{backend.name}.txt"
    spec = {**backend.spec(dataset), "mode": "engine", "workload": name, "events": events,
            "state_dir": str(state), "out_prefix": f"p{time.time_ns()}_"}
    spy = [str(workers.REPO / ".venv" / "bin" / "py-spy"), "record", "--rate", str(rate), "--format", "raw",
           "-o", str(raw_path), "--"]
    measured = workers.run(spec, prefix=spy)
    measured["events_per_cpu_s"] = measured["events"] / measured["cpu_s"]
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{backend.name}.md"
    path.write_text(summary(name, backend.name, raw_path.read_text(), measured))
    return path


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=("embedded", "kafka"), default="embedded")
    p.add_argument("--workloads", nargs="*", default=["nexmark-q0", "pageviews-tumbling-count"])
    p.add_argument("--base", type=int, default=500_000)
    p.add_argument("--rate", type=int, default=250, help="samples per second")
    p.add_argument("--bootstrap", help="existing broker (default: start one for --backend kafka)")
    p.add_argument("--out", type=Path, default=workers.REPO / "bench" / "results" / "profiles")
    args = p.parse_args(argv)
    root = run.WORK / time.strftime("profile-%Y%m%d-%H%M%S")
    broker, bootstrap = None, args.bootstrap
    if args.backend == "kafka" and not bootstrap:
        broker, bootstrap = run.start_broker(root)
    backend = Backend(args.backend, root / args.backend, bootstrap)
    try:
        for name in args.workloads:
            print(profile(backend, name, args.base, args.out, args.rate), flush=True)
    finally:
        backend.close()
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    main()
