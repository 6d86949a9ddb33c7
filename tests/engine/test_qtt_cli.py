"""`streamsql test`: QTT files with --filter and --json-report, and ksql-test-runner's form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.main import main

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "qtt"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared QTT corpus is not next to the repo")
def test_filter_and_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    code = main(["test", str(CORPUS / "project-filter.json"), "--filter", "Filter on", "--jobs", "1",
                 "--json-report", str(report)])
    out = capsys.readouterr().out.splitlines()
    cases = json.loads(report.read_text())["cases"]
    assert cases and all("Filter on" in c["name"] for c in cases)
    assert {c["file"] for c in cases} == {"project-filter.json"}
    assert set(cases[0]) == {"file", "name", "format", "status", "detail"}
    passed = sum(c["status"] == "passed" for c in cases)
    assert out[-1] == f"{passed} passed, {len(cases) - passed} failed"
    assert code == (0 if passed == len(cases) else 1)


def test_ksql_test_runner_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.sql").write_text(
        "CREATE STREAM pv (id INT KEY, page STRING) WITH (KAFKA_TOPIC='pv', VALUE_FORMAT='JSON');\n"
        "CREATE STREAM home AS SELECT id, UCASE(page) AS page FROM pv WHERE page LIKE 'home%';\n")
    (tmp_path / "in.json").write_text(json.dumps({"inputs": [
        {"topic": "pv", "key": 1, "value": {"page": "home"}},
        {"topic": "pv", "key": 2, "value": {"page": "about"}},
        {"topic": "pv", "key": 3, "value": {"page": "home/x"}}]}))
    (tmp_path / "out.json").write_text(json.dumps({"outputs": [
        {"topic": "HOME", "key": 1, "value": {"PAGE": "HOME"}},
        {"topic": "HOME", "key": 3, "value": {"PAGE": "HOME/X"}}]}))
    args = ["test", "--statements", str(tmp_path / "s.sql"), "--input", str(tmp_path / "in.json"),
            "--output", str(tmp_path / "out.json")]
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 0 failed"
    (tmp_path / "out.json").write_text(json.dumps({"outputs": [{"topic": "HOME", "key": 2, "value": {"PAGE": "X"}}]}))
    assert main(args) == 1  # a wrong expectation fails
    assert "1 failed" in capsys.readouterr().out
