"""Every example in queries/ runs: its sample data (the `streamsql datagen` lines in its header
comment, or its own INSERTs), then `streamsql run --until-idle`; every stream or table it creates
with a query must end up with records, and every table must answer a pull query."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from cli_support import ROOT

from cli.main import main
from engine.engine import Engine
from engine.results import RowsResult

EXAMPLES = sorted((ROOT / "queries").glob("*.sql"))
_DATAGEN = re.compile(r"^--\s+streamsql (datagen .*)$", re.MULTILINE)
# `make demo` fills the pageviews topic itself; its example names no datagen line.
_EXTRA_DATA = {"pageviews_by_user.sql": ["datagen --quickstart pageviews --topic pageviews --count 2000"]}


def datagen_commands(path: Path) -> list[list[str]]:
    """The datagen command lines an example documents (plus the demo's)."""
    lines = _DATAGEN.findall(path.read_text(encoding="utf-8")) + _EXTRA_DATA.get(path.name, [])
    return [shlex.split(line) for line in lines]


def test_every_example_is_collected() -> None:
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    for argv in datagen_commands(path):
        assert main([*argv, "--data-dir", data]) == 0
    code = main(["run", str(path), "--until-idle", "--data-dir", data])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Processed" in out
    engine = Engine(data_dir=data)
    try:
        sinks = [s for s in engine.catalog.sources.values() if s.is_sink_of]
        assert sinks, "an example runs at least one persistent query"
        for sink in sinks:
            topic = engine.store.topic(sink.topic)
            assert topic is not None and sum(topic.end_offsets()) > 0, f"{sink.name} got no records"
            if sink.kind == "TABLE":
                result = engine.execute(f"SELECT * FROM {sink.name};")[0]
                assert isinstance(result, RowsResult) and result.rows, f"{sink.name} answers no pull query"
    finally:
        engine.close()
