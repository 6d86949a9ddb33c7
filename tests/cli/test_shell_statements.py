"""The shell's statement handling in-process (no terminal): every statement family renders,
variables substitute, scripts run, non-ksqlDB queries fall back to DuckDB, errors are messages."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import ROOT, child_env, streamsql_argv, wait_for
from prompt_toolkit.history import InMemoryHistory

from cli.backend import LocalBackend
from cli.shell import Shell
from engine.engine import Engine


@pytest.fixture
def shell() -> Iterator[tuple[Shell, io.StringIO]]:
    engine = Engine()
    engine.start()
    out = io.StringIO()
    sh = Shell(LocalBackend(engine, "memory"), InMemoryHistory(), out=out)
    sh.handle("CREATE STREAM s (id INT KEY, name VARCHAR) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);")
    try:
        yield sh, out
    finally:
        engine.close()


def run(sh: Shell, out: io.StringIO, text: str) -> str:
    out.seek(0)
    out.truncate()
    sh.handle(text)
    return out.getvalue()


def test_statement_families_render(shell: tuple[Shell, io.StringIO]) -> None:
    sh, out = shell
    assert "Defined variable WHO" in run(sh, out, "DEFINE who = 'zed';")
    assert "Inserted 1 row" in run(sh, out, "INSERT INTO s (id, name) VALUES (1, '${who}');")
    assert "| ID    | INTEGER (key) |" in run(sh, out, "DESCRIBE s;")
    assert "Created query with ID CTAS_T_" in run(sh, out, "CREATE TABLE t AS SELECT name, COUNT(*) AS n FROM s "
                                                          "GROUP BY name;")
    assert "| CTAS_T_" in run(sh, out, "SHOW QUERIES;")
    assert "Sinks         : T" in run(sh, out, "EXPLAIN CTAS_T_1;")
    wait_for(lambda: "| zed  | 1 |" in run(sh, out, "SELECT * FROM t;"), what="the table to count zed")
    assert "| zed  | 1 |" in run(sh, out, "SELECT name, n FROM t ORDER BY n DESC")  # DuckDB SQL
    assert "SUBSTRING(STRING arg1, INTEGER arg2) => STRING" in run(sh, out, "DESCRIBE FUNCTION SUBSTRING;")
    assert "ksql.service.id" in run(sh, out, "LIST PROPERTIES;")
    assert "Limit Reached" in run(sh, out, "SELECT * FROM s EMIT CHANGES LIMIT 1;")
    assert '"@type": "kafka_topics"' in run(sh, out, "output JSON\n") + run(sh, out, "SHOW TOPICS;")


def test_run_script_both_ways(shell: tuple[Shell, io.StringIO], tmp_path: Path) -> None:
    sh, out = shell
    script = tmp_path / "more.sql"
    script.write_text("INSERT INTO s (id, name) VALUES (2, 'b');\nINSERT INTO s (id, name) VALUES (3, 'c');\n")
    assert run(sh, out, f"run script {script}").count("Inserted 1 row") == 2
    assert run(sh, out, f"RUN SCRIPT '{script}';").count("Inserted 1 row") == 2
    bad = tmp_path / "bad.sql"
    bad.write_text("INSERT INTO s (id, name) VALUES (4, 'd');\nSELEC x;\n")
    sh.handle(f"run script {bad}")  # parse error: nothing of the file runs
    rows = run(sh, out, "SELECT * FROM s;")
    assert "4 rows" in rows and "| 4 " not in rows


def test_errors_are_messages(shell: tuple[Shell, io.StringIO], capsys: pytest.CaptureFixture[str]) -> None:
    sh, out = shell
    sh.handle("SELECT nope FROM s;")
    sh.handle("DROP STREAM missing;")
    sh.handle("run script /nonexistent/x.sql")
    err = capsys.readouterr().err
    assert "NOPE" in err and "MISSING" in err.upper() and "Failed to read file" in err
    assert "Traceback" not in err


def test_statements_piped_into_the_shell(tmp_path: Path) -> None:
    script = ("CREATE STREAM p (a INT) WITH (KAFKA_TOPIC='p', VALUE_FORMAT='JSON', PARTITIONS=1);\n"
              "INSERT INTO p (a) VALUES (7);\nSELECT * FROM p;\n")
    done = subprocess.run(streamsql_argv("shell", "--data-dir", str(tmp_path / "d")), input=script, cwd=ROOT,
                          env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "| 7 |" in done.stdout and "1 row" in done.stdout
    done = subprocess.run(streamsql_argv("shell", "--data-dir", str(tmp_path / "d")), input="SELEC 1;\n",
                          cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.rstrip().endswith("^")
