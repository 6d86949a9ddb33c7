"""The interactive shell, driven through a real pseudo-terminal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import ROOT, free_port, server_up, streamsql_argv, wait_for

pytest.importorskip("pexpect", reason="the pty tests need pexpect (dev dependency pexpect==4.9.0)")

from ptyterm import PtyTerm  # noqa: E402 - after the skip check

PROMPT = "streamsql>"
CREATE = ("CREATE STREAM clicks (userid VARCHAR, page VARCHAR) WITH (KAFKA_TOPIC = 'clicks', "
          "VALUE_FORMAT = 'JSON', PARTITIONS = 1);")


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[PtyTerm]:
    """A shell on an embedded log in a temporary data dir; stopped when the test ends."""
    term = PtyTerm(streamsql_argv("shell", "--data-dir", str(tmp_path / "data")), cwd=str(ROOT))
    term.expect(PROMPT)
    yield term
    term.close()


def _run(term: PtyTerm, sql: str, expect: str) -> None:
    term.sendline(sql)
    term.expect(expect)
    term.expect(PROMPT)


def test_statements_push_query_ctrl_c_and_completion(shell: PtyTerm) -> None:
    # Multi-line input: Enter before the `;` continues the statement.
    shell.sendline("CREATE STREAM clicks (userid VARCHAR, page VARCHAR)")
    shell.sendline("  WITH (KAFKA_TOPIC = 'clicks', VALUE_FORMAT = 'JSON', PARTITIONS = 1);")
    shell.expect("Stream created")
    shell.expect(PROMPT)
    _run(shell, "INSERT INTO clicks (userid, page) VALUES ('alice', 'home');", "Inserted 1 row")
    shell.sendline("SELECT userid, page FROM clicks EMIT CHANGES;")
    shell.expect("Press CTRL-C to interrupt")
    shell.expect(r"\|USERID +\|PAGE +\|")
    shell.expect(r"\|alice +\|home +\|")
    shell.child.sendintr()
    shell.expect("Query terminated")
    shell.expect(PROMPT)
    # The shell survived Ctrl-C: statements still run, and completion works.
    _run(shell, "INSERT INTO clicks (userid, page) VALUES ('bob', 'cart');", "Inserted 1 row")
    shell.send("SHOW TAB\t")
    shell.expect("LES")  # the completion is drawn
    shell.send(";\r")
    shell.expect(r"Table Name")
    shell.expect(PROMPT)
    shell.send("SELECT * FROM cli\t")
    shell.expect("CKS")
    shell.send(" EMIT CHANGES LIMIT 2;\r")
    shell.expect(r"\|bob +\|cart +\|")
    shell.expect("Limit Reached")
    shell.expect(PROMPT)
    shell.send("\x04")  # Ctrl-D
    shell.expect("Exiting")
    assert shell.wait_exit() == 0


def test_bad_statement_shows_a_caret(shell: PtyTerm) -> None:
    shell.sendline(CREATE)
    shell.expect("Stream created")
    shell.expect(PROMPT)
    shell.sendline("SELECT userid FORM clicks;")
    match = shell.expect(r"line 1:(\d+): [^\n]*\nSELECT userid FORM clicks;\n( *)\^")
    assert len(match.group(2)) == int(match.group(1)) - 1
    shell.expect(PROMPT)
    shell.sendline("SELECT nope FROM clicks EMIT CHANGES;")
    shell.expect("NOPE")  # an engine error by message, never a traceback
    shell.expect(PROMPT)
    assert "Traceback" not in shell.text
    _run(shell, "version", "Version: ")


def test_table_pull_query(shell: PtyTerm) -> None:
    _run(shell, CREATE, "Stream created")
    _run(shell, "CREATE TABLE clicks_per_user AS SELECT userid, COUNT(*) AS clicks FROM clicks "
                "GROUP BY userid EMIT CHANGES;", "Created query")
    for user in ("alice", "bob", "alice"):
        _run(shell, f"INSERT INTO clicks (userid, page) VALUES ('{user}', 'home');", "Inserted 1 row")

    def alice_has_two() -> bool:
        shell.sendline("SELECT * FROM clicks_per_user WHERE userid = 'alice';")
        match = shell.expect(r"(\| alice +\| (\d+) +\|\n\+[-+]+\+\n1 row|0 rows)")
        shell.expect(PROMPT)
        return match.group(2) == "2"

    wait_for(alice_has_two, what="the pull query to show alice's 2 clicks")


def test_history_output_json_and_spool(tmp_path: Path, shell: PtyTerm) -> None:
    _run(shell, CREATE, "Stream created")
    _run(shell, "INSERT INTO clicks (userid, page) VALUES ('dave', 'about');", "Inserted 1 row")
    _run(shell, "output JSON", "Output format set to JSON")
    _run(shell, "SHOW STREAMS;", r'"@type": "streams"')
    _run(shell, "output TABULAR", "Output format set to TABULAR")
    spool = tmp_path / "spool.txt"
    _run(shell, f"spool {spool}", "Session will be spooled")
    _run(shell, "SHOW STREAMS;", "Stream Name")
    _run(shell, "spool off", "Spool off")
    assert "CLICKS" in spool.read_text()
    _run(shell, "history", r"\d+  SHOW STREAMS;")
    assert (tmp_path / "data" / "history").exists()
    # Ctrl-R finds an earlier statement; Enter takes it into the input, Enter again runs it.
    shell.send("\x12")
    shell.expect("I-search backward")
    shell.send("INSERT")
    shell.expect("INSERT INTO clicks")
    shell.send("\r")
    shell.send("\r")
    shell.expect("Inserted 1 row")


def test_shell_as_client_of_a_server(tmp_path: Path, children) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    children("server", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "srv"))
    wait_for(lambda: server_up(url), what="the server to listen")
    term = PtyTerm(streamsql_argv("shell", "--server", url, "--history", str(tmp_path / "h")), cwd=str(ROOT))
    try:
        term.expect(f"Connected to: server {url}")
        term.expect(PROMPT)
        _run(term, CREATE, "Stream created")
        _run(term, "INSERT INTO clicks (userid, page) VALUES ('carol', 'faq');", "Inserted 1 row")
        term.sendline("SELECT * FROM clicks EMIT CHANGES;")
        term.expect(r"\|carol +\|faq +\|")
        term.child.sendintr()
        term.expect("Query terminated")
        term.expect(PROMPT)
        term.send("DESCRIBE cl\t")
        term.expect("ICKS")
        term.send(";\r")
        term.expect("USERID")
        term.expect(PROMPT)
        _run(term, "SELEC 1;", r"\nSELEC 1;\n\^")
        term.sendline("exit")
        assert term.wait_exit() == 0
    finally:
        term.close()
