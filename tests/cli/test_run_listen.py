"""`streamsql run FILE --listen` keeps queries running and serves their state, which
`streamsql query --server` reads while it runs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from cli_support import ROOT, free_port, request, run_cli, server_up, wait_for

EXAMPLE = ROOT / "queries" / "wordcount_windowed.sql"


def test_run_listen_and_query_server(tmp_path: Path, children) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = str(tmp_path / "data")
    run = children("run", str(EXAMPLE), "--listen", f"127.0.0.1:{port}", "--data-dir", data)
    wait_for(lambda: server_up(url) or run.proc.poll() is not None, what="`run --listen` to serve")
    assert run.proc.poll() is None, run.stop()

    def streams_counted() -> list[dict[str, object]] | None:
        done = run_cli("query", "--server", url, "--format", "json",
                       "SELECT word, occurrences FROM word_counts WHERE word = 'streams';")
        assert done.returncode == 0, done.stderr
        rows = json.loads(done.stdout)
        return rows if rows and rows[0]["OCCURRENCES"] == 5 else None

    assert wait_for(streams_counted, what="the running query to count 'streams'") == [
        {"WORD": "streams", "OCCURRENCES": 5}]

    # DuckDB SQL over the materialised table, through the server that owns it.
    done = run_cli("query", "--server", url, "--format", "csv",
                   "SELECT word, occurrences FROM word_counts ORDER BY occurrences DESC, word LIMIT 3")
    assert done.returncode == 0, done.stderr
    assert list(csv.reader(io.StringIO(done.stdout))) == [
        ["WORD", "OCCURRENCES"], ["streams", "5"], ["the", "4"], ["are", "3"]]

    # The running process owns the data dir: opening it directly points at --server.
    done = run_cli("query", "--data-dir", data, "SHOW TABLES;")
    assert done.returncode == 1 and "--server" in done.stderr

    assert run.stop() == 0
    assert "Stopped; offsets committed." in run.output


def test_query_data_dir_formats(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    done = run_cli("run", str(EXAMPLE), "--until-idle", "--data-dir", data)
    assert done.returncode == 0, done.stderr
    done = run_cli("query", "--data-dir", data, "SELECT * FROM word_counts WHERE word = 'kafka';")
    assert done.returncode == 0, done.stderr
    assert "| kafka" in done.stdout and "1 row" in done.stdout
    done = run_cli("query", "--data-dir", data, "--sql", "ksql", "SELECT word FROM word_counts ORDER BY word")
    assert done.returncode == 1 and "line 1:" in done.stderr
    done = run_cli("query", "--data-dir", data, "DELETE FROM word_counts")
    assert done.returncode == 1


def test_server_with_queries_file_and_auth(tmp_path: Path, children) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    srv = children("server", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "d"),
                   "--queries-file", str(ROOT / "queries" / "log_error_counts.sql"), "--auth", "ops:s3cret")
    wait_for(lambda: _listening(url) or srv.proc.poll() is not None, what="the server to listen")
    assert srv.proc.poll() is None, srv.stop()
    assert request(url, "GET", "/healthcheck")[0] == 401
    done = run_cli("query", "--server", url, "SHOW TABLES;")
    assert done.returncode == 1 and "Unauthorized" in done.stderr

    def payments_errors() -> bool:
        done = run_cli("query", "--server", url, "--auth", "ops:s3cret", "--format", "json",
                       "SELECT service, errors, last_error FROM errors_per_service WHERE service = 'payments';")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) == [{"SERVICE": "payments", "ERRORS": 2, "LAST_ERROR": "gateway 502"}]

    wait_for(payments_errors, what="the queries file's table to count 2 payments errors")
    assert srv.stop() == 0


def _listening(url: str) -> bool:
    try:
        request(url, "GET", "/info", timeout=2)
    except OSError:
        return False
    return True
