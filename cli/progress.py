"""Live progress of persistent queries for `streamsql run`: a redrawn block on a terminal, a log
line per interval otherwise."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from engine.engine import Engine


@dataclass(slots=True)
class Sample:
    """A query's counters at one moment."""

    records_in: int
    records_out: int
    errors: int
    lag: int
    at: float


def sample(engine: Engine) -> dict[str, Sample]:
    """Every persistent query's counters (lag is read under the engine's lock)."""
    now = time.monotonic()
    out: dict[str, Sample] = {}
    with engine.lock:
        for qid, query in engine.running.items():
            if qid.startswith("transient_"):
                continue
            s = query.stats
            out[qid] = Sample(s.records_in, s.records_out, s.errors, query.lag(), now)
    return out


def format_lines(current: dict[str, Sample], previous: dict[str, Sample]) -> list[str]:
    """One line per query: records in/out, input rate since the previous sample, lag, errors."""
    lines = []
    for qid, s in sorted(current.items()):
        before = previous.get(qid)
        rate = 0.0
        if before is not None and s.at > before.at:
            rate = (s.records_in - before.records_in) / (s.at - before.at)
        lines.append(f"{qid:<32} in {s.records_in:>12,}  out {s.records_out:>12,}  "
                     f"{rate:>10,.0f} rec/s  lag {s.lag:>10,}  errors {s.errors:,}")
    return lines


class Progress:
    """Reports on a background thread until ``stop``."""

    def __init__(self, engine: Engine, out: TextIO = sys.stdout, interval: float | None = None) -> None:
        self.engine = engine
        self.out = out
        self.tty = out.isatty()
        self.interval = interval or (1.0 if self.tty else 10.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="streamsql-progress", daemon=True)
        self._drawn = 0

    def start(self) -> None:
        """Begin reporting."""
        self._thread.start()

    def stop(self) -> None:
        """Stop reporting (after one last report)."""
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        previous = sample(self.engine)
        while not self._stop.wait(self.interval):
            current = sample(self.engine)
            self._report(format_lines(current, previous))
            previous = current
        self._report(format_lines(sample(self.engine), previous))

    def _report(self, lines: list[str]) -> None:
        try:
            self._write(lines)
        except OSError:  # stdout closed (a pipe to `head`): stop reporting, keep running
            self._stop.set()

    def _write(self, lines: list[str]) -> None:
        if self.tty:
            # Move up over the previous block and clear it, so the block redraws in place.
            erase = "\x1b[F\x1b[2K" * self._drawn
            self.out.write(erase + "".join(line + "\n" for line in lines))
            self._drawn = len(lines)
        else:
            stamp = time.strftime("%H:%M:%S")
            self.out.write("".join(f"{stamp} {line}\n" for line in lines))
        self.out.flush()
