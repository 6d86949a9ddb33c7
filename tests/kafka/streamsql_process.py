"""``streamsql`` as a real subprocess: started, watched line by line, stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[2]


class StreamsqlProcess:
    """``python -m cli.main ARGS`` in the repo, stdout/stderr collected by reader threads.

    Use as a context manager: leaving the block kills the process if it is still running.
    """

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.args = args
        self._lines: list[str] = []
        self._err: list[str] = []
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "cli.main", *args],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **(env or {})},
        )
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._err), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _pump(self, stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._changed:
                sink.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def stdout(self) -> str:
        with self._changed:
            return "\n".join(self._lines)

    @property
    def stderr(self) -> str:
        with self._changed:
            return "\n".join(self._err)

    def wait_for_line(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first stdout line matching ``pattern``; fails if the process exits or time runs out."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            return next((m for line in self._lines if (m := regex.search(line))), None)

        with self._changed:
            self._changed.wait_for(lambda: found() is not None or self.proc.poll() is not None, timeout)
            match = found()
        if match is None:
            raise AssertionError(
                f"streamsql {' '.join(self.args[:2])} printed no line matching {pattern!r} within "
                f"{timeout:.0f}s (exit code {self.proc.poll()}).\nstdout:\n{self.stdout[-3000:]}\n"
                f"stderr:\n{self.stderr[-5000:]}"
            )
        return match

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait for the exit code (SIGKILL and fail after ``timeout``)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(
                f"streamsql did not exit within {timeout:.0f}s of SIGTERM.\nstderr:\n{self.stderr[-5000:]}"
            ) from None
        for reader in self._readers:
            reader.join(10)
        return code

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit by itself; fails after ``timeout``."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"streamsql {' '.join(self.args[:2])} still running after {timeout:.0f}s.\n"
                f"stdout:\n{self.stdout[-3000:]}\nstderr:\n{self.stderr[-3000:]}"
            ) from None
        for reader in self._readers:
            reader.join(10)
        return code

    def __enter__(self) -> StreamsqlProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
