"""Results: ``latest.json``, a markdown table, a PNG chart, and dated copies of all three."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

# The goals the issue sets (reported against, not asserted).
GOALS = [
    ("kafka", ("nexmark-q0", "nexmark-q1", "nexmark-q2"), "events_per_cpu_s", 150_000, "stateless Nexmark on Kafka"),
    ("kafka", ("pageviews-tumbling-count",), "events_per_cpu_s", 100_000, "windowed count on Kafka"),
    ("kafka", ("nexmark-q0", "nexmark-q1", "nexmark-q2", "pageviews-tumbling-count"), "ratio_vs_raw_consume", 0.7,
     "share of the raw consume rate on Kafka"),
    ("kafka", ("pageviews-tumbling-count",), "ratio_vs_peer", 5.0, "times Quix Streams"),
    ("embedded", ("nexmark-q0", "nexmark-q1", "nexmark-q2"), "events_per_cpu_s", 1_000_000, "stateless, embedded log"),
]
FIELDS = ("name", "backend", "events", "wall_s", "cpu_s", "events_per_s", "events_per_cpu_s", "peak_rss_mb",
          "latency_p50_ms", "latency_p99_ms", "ratio_vs_raw_consume", "ratio_vs_peer")


def thin(samples: list[Any], n: int) -> list[Any]:
    """At most ``n`` evenly spaced samples (the last one kept)."""
    if len(samples) <= n:
        return samples
    step = len(samples) / n
    return [samples[int(i * step)] for i in range(n - 1)] + [samples[-1]]


def _fmt(v: Any, digits: int = 0) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def summary(row: dict[str, Any]) -> str:
    """One line for the console."""
    parts = [f"{_fmt(row.get('events_per_cpu_s'))} ev/CPU-s", f"{_fmt(row.get('events_per_s'))} ev/s",
             f"RSS {_fmt(row.get('peak_rss_mb'))} MB"]
    for key, label in (("ratio_vs_raw_consume", "x raw"), ("ratio_vs_peer", "x Quix")):
        if row.get(key) is not None:
            parts.append(f"{row[key]:.2f}{label}")
    if row.get("latency_p50_ms") is not None:
        parts.append(f"p50/p99 {row['latency_p50_ms']:.1f}/{row['latency_p99_ms']:.1f} ms")
    return ", ".join(parts)


def to_json(rows: list[dict[str, Any]], info: dict[str, Any]) -> dict[str, Any]:
    """The results document: every required field on every row (None when not measured)."""
    workloads = []
    for row in rows:
        workloads.append({**{f: row.get(f) for f in FIELDS}, **{k: v for k, v in row.items() if k not in FIELDS}})
    return {"date": info.get("date") or time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": info, "workloads": workloads}


def _main_table(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| workload | backend | events | wall s | CPU s | events/s | events/CPU-s | peak RSS MB | "
           "p50 ms | p99 ms | × raw consume | × Quix | status |", "|" + "---|" * 13]
    for r in rows:
        if r["name"].startswith("memory-"):
            continue
        out.append("| " + " | ".join([
            r["name"], r["backend"], _fmt(r.get("events")), _fmt(r.get("wall_s"), 2), _fmt(r.get("cpu_s"), 2),
            _fmt(r.get("events_per_s")), _fmt(r.get("events_per_cpu_s")), _fmt(r.get("peak_rss_mb")),
            _fmt(r.get("latency_p50_ms"), 1), _fmt(r.get("latency_p99_ms"), 1),
            _fmt(r.get("ratio_vs_raw_consume"), 2), _fmt(r.get("ratio_vs_peer"), 2),
            r.get("status", "ok") + (f": {r['reason']}" if r.get("status") != "ok" and r.get("reason") else ""),
        ]) + " |")
    return out


def _baselines(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| workload | backend | raw consume (client) | raw events/s | raw events/CPU-s | "
           "KafkaStore.fetch events/CPU-s | Quix events/s | Quix events/CPU-s | Quix peak RSS MB |",
           "|" + "---|" * 9]
    for r in rows:
        raw, peer = r.get("raw_consume"), r.get("peer") or {}
        if not raw:
            continue
        fetch = raw.get("store_fetch") or {}
        out.append("| " + " | ".join([
            r["name"], r["backend"], raw.get("client", ""), _fmt(raw.get("events_per_s")),
            _fmt(raw.get("events_per_cpu_s")), _fmt(fetch.get("events_per_cpu_s")), _fmt(peer.get("events_per_s")),
            _fmt(peer.get("events_per_cpu_s")), _fmt(peer.get("peak_rss_mb"))]) + " |")
    return out


def _memory(rows: list[dict[str, Any]]) -> list[str]:
    mem = [r for r in rows if r["name"].startswith("memory-")]
    if not mem:
        return []
    out = ["", "## Memory: tumbling COUNT over distinct keys (state in DuckDB on disk)", "",
           "| run | backend | distinct keys | DuckDB settings | events/CPU-s | RSS before MB | peak RSS MB | "
           "state on disk MB | RSS growth per 1 M keys MB |", "|" + "---|" * 9]
    for r in mem:
        growth = ((r.get("peak_rss_mb") or 0) - (r.get("rss_start_mb") or 0)) / max(1, r["distinct_keys"] / 1e6)
        out.append("| " + " | ".join([
            r["name"], r["backend"], _fmt(r["distinct_keys"]), json.dumps(r.get("duckdb_settings") or {}) or "default",
            _fmt(r.get("events_per_cpu_s")), _fmt(r.get("rss_start_mb")), _fmt(r.get("peak_rss_mb")),
            _fmt(r.get("state_mb")), _fmt(growth)]) + " |")
    return out


def _before_after(rows: list[dict[str, Any]], before: dict[str, Any] | None) -> list[str]:
    """Each workload next to the same workload in an earlier results file (the run before fixes)."""
    if not before:
        return []
    old = {(r["name"], r["backend"]): r for r in before.get("workloads", [])}
    machine = before.get("machine", {})
    out = ["", f"## Before and after the profile-driven fixes (before: {before.get('date', '?')}, "
           f"commit {machine.get('commit', '?')}, load {machine.get('loadavg_at_start')})", "",
           "Same harness and sizes; the runs are hours apart on a shared machine, so the ratios (each measured "
           "against its own run's raw consume) compare better than absolute rates.", "",
           "| workload | backend | events/CPU-s before | after | speedup (CPU) | × raw consume before | after |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        b = old.get((r["name"], r["backend"]))
        if b is None or not r.get("events_per_cpu_s") or not b.get("events_per_cpu_s"):
            continue
        out.append(f"| {r['name']} | {r['backend']} | {_fmt(b['events_per_cpu_s'])} | {_fmt(r['events_per_cpu_s'])} | "
                   f"{_fmt(r['events_per_cpu_s'] / b['events_per_cpu_s'], 2)} | {_fmt(b.get('ratio_vs_raw_consume'), 2)} | "
                   f"{_fmt(r.get('ratio_vs_raw_consume'), 2)} |")
    return out


def _idle_waits(rows: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for r in rows:
        for key, lat in r.items():
            if key.startswith("latency_idle_wait_") and isinstance(lat, dict):
                if not out:
                    out = ["", "## Latency with a shorter idle wait (`Engine.start(idle_wait=...)`, default 50 ms)", "",
                           "| workload | backend | idle wait | p50 ms | p99 ms | default p50 ms | default p99 ms |",
                           "|---|---|---|---|---|---|---|"]
                out.append(f"| {r['name']} | {r['backend']} | {key.rsplit('_', 1)[1]} | "
                           f"{_fmt(lat.get('latency_p50_ms'), 1)} | {_fmt(lat.get('latency_p99_ms'), 1)} | "
                           f"{_fmt(r.get('latency_p50_ms'), 1)} | {_fmt(r.get('latency_p99_ms'), 1)} |")
    return out


def _goals(rows: list[dict[str, Any]]) -> list[str]:
    out = ["", "## Goals (reported, not asserted)", "", "| goal | workload | measured | met |", "|---|---|---|---|"]
    for backend, names, key, target, label in GOALS:
        for r in rows:
            if r["backend"] == backend and r["name"] in names:
                v = r.get(key)
                met = "pending" if r.get("status") == "pending" else ("–" if v is None else ("yes" if v >= target else "no"))
                out.append(f"| {label} ≥ {_fmt(target, 1) if target < 10 else _fmt(target)} | {r['name']} | "
                           f"{_fmt(v, 2) if isinstance(v, float) and v < 10 else _fmt(v)} | {met} |")
    return out


def markdown(rows: list[dict[str, Any]], info: dict[str, Any], rate: int, before: dict[str, Any] | None = None) -> str:
    """The human-readable results page."""
    head = [f"# streamsql benchmark — {info.get('date', '')}", "",
            f"Machine: {info.get('cpus')} CPUs, {info.get('platform')}, Python {info.get('python')}; "
            f"load average {info.get('loadavg_at_start')} at start, {info.get('loadavg_at_end')} at end "
            f"(shared machine: compare ratios, measured minutes apart at most). "
            f"{'Quick (smoke) run. ' if info.get('quick') else ''}Base input {_fmt(info.get('base_events'))} events; "
            f"latency at {_fmt(rate)} events/s.", "",
            "events/CPU-s: input records per CPU-second of the engine process (all threads). "
            "× raw consume: engine events/CPU-s over a raw consume of the same topic (aiokafka `getmany` on Kafka, "
            "the log's fetch on the embedded log) in the same run; × Quix: over Quix Streams on the same topic "
            "and broker. Latency: produce -> output arrival at a fixed rate (see bench/latency.py). "
            f"Engine and raw consume each ran {info.get('repeats', 1)} time(s), alternating; the median run is shown "
            "(every run's rate is in latest.json, `runs_events_per_cpu_s`).", ""]
    diffs = ["", "## Workloads and how they differ from Nexmark", ""]
    seen = set()
    for r in rows:
        if r["name"] not in seen and r.get("differs") and not r["name"].startswith("memory-"):
            seen.add(r["name"])
            diffs.append(f"- **{r['name']}**: {r['differs']}")
    body = head + _main_table(rows) + ["", "## Baselines measured in the same run", ""] + _baselines(rows)
    return "\n".join(body + _memory(rows) + _idle_waits(rows) + _before_after(rows, before) + _goals(rows) + diffs) + "\n"


def chart(rows: list[dict[str, Any]], path: Path) -> None:
    """Events per CPU-second per workload and backend, with the raw consume rate as a marker."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.get("events_per_cpu_s") and not r["name"].startswith("memory-")]
    names = sorted({r["name"] for r in rows if not r["name"].startswith("memory-")},
                   key=lambda n: [r["name"] for r in rows].index(n))
    if not shown:
        return
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(names) + 1.6), dpi=90)
    for offset, backend, color in ((-0.2, "embedded", "#4C72B0"), (0.2, "kafka", "#DD8452")):
        for i, name in enumerate(names):
            r = next((x for x in shown if x["name"] == name and x["backend"] == backend), None)
            if r is None:
                continue
            ax.barh(i + offset, r["events_per_cpu_s"] / 1000, height=0.38, color=color,
                    label=f"streamsql, {backend}" if i == names.index(r["name"]) and _first(shown, r) else None)
            raw = (r.get("raw_consume") or {}).get("events_per_cpu_s")
            if raw:
                ax.plot(raw / 1000, i + offset, marker="|", markersize=14, color="black")
            peer = (r.get("peer") or {}).get("events_per_cpu_s")
            if peer:
                ax.barh(i + offset + 0.19, peer / 1000, height=0.12, color="#55A868", label="Quix Streams, kafka")
    for i, name in enumerate(names):
        if not any(x["name"] == name for x in shown):
            ax.text(1, i, "pending (joins)", va="center", fontsize=8, color="gray")
    ax.plot([], [], marker="|", markersize=10, linestyle="none", color="black", label="raw consume (same topic)")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("thousand input events per CPU-second (log scale)")
    ax.set_title("streamsql: events per CPU-second of the engine process")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _first(shown: list[dict[str, Any]], row: dict[str, Any]) -> bool:
    return next(x for x in shown if x["backend"] == row["backend"]) is row


def write(out: Path, rows: list[dict[str, Any]], info: dict[str, Any], rate: int,
          before: dict[str, Any] | None = None) -> None:
    """Write latest.{json,md,png} and dated copies into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    info = {**info, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    stamp = time.strftime("%Y-%m-%d-%H%M") + ("-quick" if info.get("quick") else "")
    (out / "latest.json").write_text(json.dumps(to_json(rows, info), indent=1) + "\n")
    (out / "latest.md").write_text(markdown(rows, info, rate, before))
    try:
        chart(rows, out / "latest.png")
    except ImportError:
        print("matplotlib missing: no chart (pip install -r bench/requirements.txt)")
    for ext in ("json", "md", "png"):
        if (out / f"latest.{ext}").exists():
            shutil.copyfile(out / f"latest.{ext}", out / f"{stamp}.{ext}")
    print(f"results: {out / 'latest.md'}")
