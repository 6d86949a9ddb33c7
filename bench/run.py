"""The benchmark runner: ``python -m bench.run [--quick] [--backend embedded|kafka|both] [--workloads ...]``.

For each backend and workload, in this order and close together in time (the machine is shared,
so ratios between figures taken minutes apart would carry the noise):

1. the workload's input is written once (``bench.backends``) by this process;
2. the raw consume of the same topics (``raw-embedded`` / aiokafka ``getmany``) in a fresh process;
3. the engine over the same topics in a fresh process (CPU, wall, peak RSS);
4. the latency run at a fixed rate (fresh topics, engine on its background thread);
5. on Kafka, for the pageviews count, Quix Streams over the same input topic.

Then the memory runs (tumbling COUNT over 1 M and, in the full run, 10 M distinct keys), and
the results go to ``bench/results/`` (``latest.json``/``.md``/``.png`` plus dated copies).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import datasets, report, workers
from bench.backends import Backend
from bench.workloads import MEMORY, WORKLOADS, Workload, get

WORK = workers.REPO / ".work" / "bench"
# The full run before the profile-driven fixes (JSON decode, Kafka produce, aggregate step).
BEFORE = workers.REPO / "bench" / "results" / "2026-11-21-1039.json"


@dataclass
class Settings:
    """Sizes of one run: ``--quick`` (a smoke run, minutes) or full."""

    base: int = 2_000_000
    memory_keys: tuple[int, ...] = (1_000_000, 10_000_000)
    rate: int = 10_000
    warmup_s: float = 5.0
    duration_s: float = 30.0
    latency: bool = True
    peer: bool = True
    quick: bool = False
    peer_events: int = 500_000
    repeats: int = 3  # raw consume + engine runs per workload (median reported)
    max_s: float = 300.0  # per engine measurement; past it the row is "partial" (rates over what ran)
    # What-if latency runs with a shorter Engine.start(idle_wait=...) than the default 50 ms.
    idle_waits: tuple[float, ...] = (0.005,)
    idle_wait_workloads: tuple[str, ...] = ("nexmark-q0", "pageviews-tumbling-count")
    extra: dict[str, Any] = field(default_factory=dict)


QUICK = Settings(base=300_000, memory_keys=(1_000_000,), warmup_s=2.0, duration_s=6.0, quick=True, idle_waits=(),
                 max_s=60.0, repeats=1)


def pending_reason(workload: Workload) -> str | None:
    """Why the engine cannot run ``workload`` yet (a statement it rejects as unsupported), or None."""
    from engine.engine import Engine
    from engine.errors import KsqlError

    engine = Engine(auto_create_topics=True)
    try:
        engine.execute(workload.sql.format(p="chk_", o="chk_out_"))
    except KsqlError as err:
        return str(err).splitlines()[0]
    finally:
        engine.close()
    return None


def _rates(m: dict[str, Any]) -> dict[str, Any]:
    events = m["events"]
    return {"events_per_s": events / m["wall_s"] if m["wall_s"] else None,
            "events_per_cpu_s": events / m["cpu_s"] if m["cpu_s"] else None}


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median events/CPU-s (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda m: m.get("events_per_cpu_s") or 0)
    return ordered[(len(ordered) - 1) // 2]


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


class Runner:
    """Runs the measurements of one invocation and collects result rows."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.s = settings
        self.root = root
        self.rows: list[dict[str, Any]] = []
        self._seq = 0

    def _state_dir(self, label: str) -> Path:
        self._seq += 1
        path = self.root / "state" / f"{self._seq:03d}-{label}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _base_spec(self, backend: Backend, wl: Workload, label: str) -> dict[str, Any]:
        out = f"o{backend.run_id}_{self._seq + 1:03d}_"
        return {"workload": wl.name, "state_dir": str(self._state_dir(label)), "out_prefix": out}

    def raw_consume(self, backend: Backend, wl: Workload, dataset: datasets.Dataset, events: int) -> dict[str, Any]:
        """The I/O ceiling over the workload's input topics."""
        topics = [backend.prefix(dataset) + p for p in wl.inputs]
        spec = {**backend.spec(dataset), "topics": topics, "events": events,
                "mode": "raw-kafka" if backend.bootstrap else "raw-embedded"}
        raw = workers.run(spec)
        raw.update(_rates(raw), client="aiokafka getmany" if backend.bootstrap else "embedded fetch")
        if backend.bootstrap:
            fetch = workers.run({**spec, "mode": "store-fetch"})
            raw["store_fetch"] = {**fetch, **_rates(fetch)}
        return raw

    def engine(self, backend: Backend, wl: Workload, dataset: datasets.Dataset, events: int,
               **extra: Any) -> dict[str, Any]:
        spec = {**self._base_spec(backend, wl, f"{backend.name}-{wl.name}"), **backend.spec(dataset),
                "mode": "engine", "events": events, "max_s": self.s.max_s, **extra}
        m = workers.run(spec)
        m.update(_rates(m))
        shutil.rmtree(spec["state_dir"], ignore_errors=True)
        return m

    def latency(self, backend: Backend, wl: Workload, idle_wait: float | None = None) -> dict[str, Any]:
        """Fixed-rate end-to-end latency on fresh topics (``idle_wait``: Engine.start's, else its default)."""
        from bench import latency

        spec = {**self._base_spec(backend, wl, f"{backend.name}-{wl.name}-latency"), "mode": "latency",
                "kafka": backend.bootstrap, "store_dir": str(self.root / "latency" / f"{self._seq:03d}"),
                "in_prefix": f"l{backend.run_id}_{self._seq:03d}_", "rate": self.s.rate,
                "warmup_s": self.s.warmup_s, "duration_s": self.s.duration_s}
        if idle_wait is not None:
            spec["idle_wait"] = idle_wait
        if backend.bootstrap is None:
            return workers.run(spec)
        store = backend._store(datasets.Dataset("latency", 0))
        return workers.run_driven(spec, lambda: latency.drive(store, spec))

    def peer(self, backend: Backend, wl: Workload, dataset: datasets.Dataset, events: int) -> dict[str, Any]:
        assert backend.bootstrap is not None
        topic = backend.prefix(dataset) + wl.inputs[-1]
        # Quix runs ~10x slower: it reads the first peer_events records of the same topic.
        events = min(events, self.s.peer_events)
        m = workers.run_quix(backend.bootstrap, topic, f"q{backend.run_id}_{self._seq}_{wl.sink}", events,
                             self._state_dir("quix"), f"quix-{backend.run_id}-{self._seq}")
        m.update(_rates(m))
        return m

    def measure(self, backend: Backend, wl: Workload) -> dict[str, Any]:
        """Every figure of one workload on one backend."""
        row: dict[str, Any] = {"name": wl.name, "backend": backend.name, "differs": wl.differs}
        reason = pending_reason(wl)
        if reason is not None:
            print(f"  {wl.name}: pending ({reason})", flush=True)
            return {**row, "status": "pending", "reason": reason}
        dataset = datasets.for_workload(wl, self.s.base)
        events = backend.ensure(dataset, wl.inputs)
        # Raw consume and engine alternate, ``repeats`` times each; the median run of each counts
        # (the machine is shared: one run can land on a busy minute). Every run's rate is kept.
        raws, engs = [], []
        for _ in range(self.s.repeats):
            raws.append(self.raw_consume(backend, wl, dataset, events))
            engs.append(self.engine(backend, wl, dataset, events))
        raw, eng = _median(raws), _median(engs)
        row["runs_events_per_cpu_s"] = {"engine": [m["events_per_cpu_s"] for m in engs],
                                        "raw_consume": [m["events_per_cpu_s"] for m in raws]}
        row.update(status="ok" if eng["complete"] else f"partial: {eng['events']:,} of {events:,} events in the time limit",
                   events=eng["events"], wall_s=eng["wall_s"],
                   cpu_s=eng["cpu_s"], events_per_s=eng["events_per_s"], events_per_cpu_s=eng["events_per_cpu_s"],
                   peak_rss_mb=eng["peak_rss_mb"], records_out=eng["records_out"],
                   ratio_vs_raw_consume=_ratio(eng["events_per_cpu_s"], raw["events_per_cpu_s"]),
                   ratio_vs_raw_consume_wall=_ratio(eng["events_per_s"], raw["events_per_s"]), raw_consume=raw)
        if "peer" in wl.tags and backend.bootstrap and self.s.peer:
            peer = self.peer(backend, wl, dataset, events)
            row.update(peer=peer, ratio_vs_peer=_ratio(eng["events_per_cpu_s"], peer["events_per_cpu_s"]),
                       ratio_vs_peer_wall=_ratio(eng["events_per_s"], peer["events_per_s"]))
        if self.s.latency:
            lat = self.latency(backend, wl)
            row.update({k: v for k, v in lat.items() if k.startswith("latency_")})
            for wait in self.s.idle_waits if wl.name in self.s.idle_wait_workloads else ():
                lat = self.latency(backend, wl, idle_wait=wait)
                row[f"latency_idle_wait_{wait * 1000:g}ms"] = {k: v for k, v in lat.items() if k.startswith("latency_")}
        print(f"  {wl.name} [{backend.name}]: {report.summary(row)}", flush=True)
        return row

    def memory(self, backend: Backend, keys: int, duckdb: dict[str, str] | None = None) -> dict[str, Any]:
        """Peak RSS of a tumbling COUNT over ``keys`` distinct keys (state on disk)."""
        dataset = datasets.Dataset("distinct", keys)
        events = backend.ensure(dataset, MEMORY.inputs)
        label = f"{MEMORY.name}-{keys // 1_000_000}M" + ("-" + "-".join(f"{v}" for v in duckdb.values()) if duckdb else "")
        eng = self.engine(backend, MEMORY, dataset, events, sample_rss=True, rss_interval=1.0,
                          duckdb=duckdb or {})
        backend.drop(dataset)
        row = {"name": label, "backend": backend.name, "differs": MEMORY.differs, "status": "ok" if eng["complete"] else "incomplete",
               "distinct_keys": keys, "duckdb_settings": duckdb or {}, **{k: eng[k] for k in (
                   "events", "wall_s", "cpu_s", "events_per_s", "events_per_cpu_s", "peak_rss_mb", "rss_start_mb",
                   "state_mb", "records_out")}, "rss_samples": report.thin(eng.get("rss_samples", []), 40)}
        print(f"  {label} [{backend.name}]: {report.summary(row)}", flush=True)
        return row

    def run_backend(self, backend: Backend, names: list[str], memory: bool) -> None:
        print(f"== {backend.name}", flush=True)
        for wl in (get(n) for n in names):
            try:
                self.rows.append(self.measure(backend, wl))
            except workers.WorkerError as err:
                print(f"  {wl.name}: error: {err}", flush=True)
                self.rows.append({"name": wl.name, "backend": backend.name, "status": "error", "reason": str(err)[-500:]})
        if memory:
            for keys in self.s.memory_keys:
                self.rows.append(self.memory(backend, keys))
            for keys, settings in self.s.extra.get("memory_limited", []):
                self.rows.append(self.memory(backend, keys, settings))


def start_broker(root: Path) -> tuple[Any, str]:
    """A throwaway broker for the run (jars shared with tools/kafka)."""
    from tools.kafka.broker import KafkaBroker

    broker = KafkaBroker(root / "kafka", die_with_parent=True)
    broker.fetch()
    return broker, broker.start()


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=workers.REPO, capture_output=True, text=True).stdout.strip()

    load = os.getloadavg()
    dirty = [line[3:] for line in git("status", "--porcelain", "--", "engine", "parser").splitlines()]
    return {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "loadavg_at_start": [round(x, 2) for x in load],
            "commit": git("rev-parse", "--short", "HEAD"), "engine_uncommitted_files": dirty}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: small inputs, 1 M keys memory run only")
    p.add_argument("--backend", choices=("embedded", "kafka", "both"), default="both")
    p.add_argument("--workloads", nargs="*", default=[w.name for w in WORKLOADS],
                   help="workload names (default: all)")
    p.add_argument("--base", type=int, help="input records per workload before its scale factor")
    p.add_argument("--no-memory", action="store_true", help="skip the distinct-key memory runs")
    p.add_argument("--no-latency", action="store_true", help="skip the fixed-rate latency runs")
    p.add_argument("--no-peer", action="store_true", help="skip Quix Streams")
    p.add_argument("--bootstrap", help="use this broker instead of starting one")
    p.add_argument("--repeats", type=int, help="raw consume + engine runs per workload (median reported)")
    p.add_argument("--before", type=Path, default=BEFORE,
                   help="an earlier results file to compare with (before/after table); 'none' for no table")
    p.add_argument("--out", type=Path, default=workers.REPO / "bench" / "results")
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    s = QUICK if args.quick else Settings(extra={"memory_limited": [(10_000_000, {"memory_limit": "1GB"})]})
    if args.base:
        s.base = args.base
    if args.repeats:
        s.repeats = args.repeats
    s.latency, s.peer = not args.no_latency, not args.no_peer
    return s


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    s = settings_from(args)
    root = WORK / time.strftime("run-%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    runner = Runner(s, root)
    began, info = time.time(), machine()
    backends = ["embedded", "kafka"] if args.backend == "both" else [args.backend]
    try:
        for name in backends:
            broker, bootstrap = (None, None)
            if name == "kafka":
                broker, bootstrap = (None, args.bootstrap) if args.bootstrap else start_broker(root)
            backend = Backend(name, root / name, bootstrap)
            try:
                # Aggregate state lives in DuckDB whatever the backend: memory runs on the first one.
                runner.run_backend(backend, args.workloads, memory=not args.no_memory and name == backends[0])
            finally:
                backend.close()
                if broker is not None:
                    broker.stop()
    finally:
        info.update(loadavg_at_end=[round(x, 2) for x in os.getloadavg()],
                    duration_s=round(time.time() - began), quick=s.quick, base_events=s.base,
                    repeats=s.repeats)
        before = None if str(args.before) == "none" or not args.before.exists() else json.loads(args.before.read_text())
        report.write(args.out, runner.rows, info, s.rate, before)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
