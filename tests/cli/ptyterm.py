"""A real pseudo-terminal driving a command, matched on its output with ANSI escapes removed.

prompt-toolkit redraws with cursor movements and colours, so expectations look at the text with
escape sequences stripped; each ``expect`` continues after the previous match.
"""

from __future__ import annotations

import os
import re
import time

import pexpect

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>78]|\x1b\][^\x07]*\x07|\r")


class PtyTerm:
    """A child process on a pty (120x40), with deadline-based expectations."""

    def __init__(self, argv: list[str], cwd: str, env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "NO_COLOR": "1",
                    "COLUMNS": "120", "LINES": "40", **(env or {})}
        self.child = pexpect.spawn(argv[0], argv[1:], cwd=cwd, env=full_env, encoding="utf-8",
                                   dimensions=(40, 120), codec_errors="replace")
        self.raw = ""
        self.pos = 0

    @property
    def text(self) -> str:
        """Everything the child printed so far, without escape sequences."""
        return ANSI.sub("", self.raw)

    def _read(self, wait: float) -> None:
        try:
            self.raw += self.child.read_nonblocking(65536, timeout=wait)
        except pexpect.TIMEOUT:
            pass

    def expect(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """Wait until ``pattern`` (a regex) appears after the last match; fail at the deadline."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            text = self.text
            match = regex.search(text, self.pos)
            if match:
                self.pos = match.end()
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {pattern!r}; output after the last match:\n"
                                     f"{text[self.pos:][-3000:]}")
            try:
                self._read(0.1)
            except pexpect.EOF as err:
                raise AssertionError(f"process ended before {pattern!r}:\n{self.text[self.pos:][-3000:]}") from err

    def send(self, text: str) -> None:
        """Type ``text`` (``\\r`` is Enter, ``\\t`` is Tab)."""
        self.child.send(text)

    def sendline(self, text: str) -> None:
        """Type a line and press Enter."""
        self.child.send(text + "\r")

    def wait_exit(self, timeout: float = 30.0) -> int:
        """Wait for the process to end; returns its exit status."""
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            if time.monotonic() > deadline:
                raise AssertionError("process did not exit")
            try:
                self._read(0.1)
            except pexpect.EOF:
                break
        self.child.wait() if self.child.isalive() else None
        self.child.close()
        return self.child.exitstatus if self.child.exitstatus is not None else -(self.child.signalstatus or 0)

    def close(self) -> None:
        """Stop the process if it still runs."""
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()
