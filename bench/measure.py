"""Measuring a process from the inside: CPU (all threads), wall, peak and sampled RSS.

``getrusage(RUSAGE_SELF)`` counts every thread of the process (the aiokafka loop thread, DuckDB's
worker threads), so CPU seconds are the engine process's, not one thread's.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Current resident set size of this process in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    ``VmHWM`` belongs to the process image; ``ru_maxrss`` would not do: Linux carries it across
    fork and exec, so a child of a large runner would report the runner's size.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """User + system CPU seconds of all threads of this process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def dir_mb(path: str | Path) -> float:
    """Total size of the files under ``path`` in MiB (0 if absent)."""
    root = Path(path)
    if not root.exists():
        return 0.0
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20


@dataclass
class Span:
    """Wall and CPU seconds between ``start`` and ``stop``."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    _wall0: float = 0.0
    _cpu0: float = 0.0

    def start(self) -> Span:
        self._wall0, self._cpu0 = time.perf_counter(), cpu_s()
        return self

    def stop(self) -> Span:
        self.wall_s = time.perf_counter() - self._wall0
        self.cpu_s = cpu_s() - self._cpu0
        return self


@dataclass
class RssSampler:
    """Samples RSS (and an optional progress counter) on a thread every ``interval`` seconds."""

    interval: float = 0.5
    samples: list[tuple[float, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        began = time.perf_counter()

        def loop() -> None:
            while not self._stop.wait(self.interval):
                self.samples.append((round(time.perf_counter() - began, 2), round(rss_mb(), 1)))

        self._thread = threading.Thread(target=loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.samples
