"""`streamsql run` reports per-query progress: redrawn on a terminal, logged otherwise; SIGINT
stops it cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_support import ROOT, streamsql_argv, wait_for

pytest.importorskip("pexpect", reason="the pty tests need pexpect (dev dependency pexpect==4.9.0)")

from ptyterm import PtyTerm  # noqa: E402 - after the skip check

EXAMPLE = str(ROOT / "queries" / "wordcount_windowed.sql")


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    term = PtyTerm(streamsql_argv("run", EXAMPLE, "--data-dir", str(tmp_path / "d")), cwd=str(ROOT))
    try:
        term.expect("Running 2 persistent queries")
        term.expect(r"CSAS_WORDS_\d+ +in +4 +out +\d+ .*rec/s +lag +0 +errors 0")
        term.expect(r"CTAS_WORD_COUNTS_\d+ +in +\d+ +out +\d+ .*lag +0")
        term.expect(r"CSAS_WORDS_\d+ +in +4 ")  # the next report ...
        assert "\x1b[F\x1b[2K" in term.raw  # ... redraws the block in place
        term.child.sendintr()
        term.expect("Stopped; offsets committed.")
        assert term.wait_exit() == 0
    finally:
        term.close()


def test_progress_is_logged_without_a_terminal(tmp_path: Path, children) -> None:
    run = children("run", EXAMPLE, "--data-dir", str(tmp_path / "d"), "--progress-interval", "0.2")
    assert run.proc.stdout is not None
    lines: list[str] = []

    def logged() -> bool:
        line = run.proc.stdout.readline()  # type: ignore[union-attr]
        lines.append(line)
        return re.search(r"CTAS_WORD_COUNTS_\d+ +in +\d+ .* lag +0 ", line) is not None

    wait_for(logged, what="a progress log line")
    assert run.stop() == 0
    assert any(line[:2].isdigit() and line[2] == ":" for line in lines if "CSAS_WORDS" in line)
