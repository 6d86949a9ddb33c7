"""Pieces of the CLI without a terminal or a server: completion, input completeness, highlighting,
rendering, literals for /inserts-stream, entities, error carets, datagen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from cli.backend import CatalogView
from cli.completion import KsqlCompleter
from cli.entities import from_entity, to_entity
from cli.errors import RemoteError
from cli.generators import generate
from cli.highlight import tokens
from cli.literals import insert_statement
from cli.main import main
from cli.render import fit_widths, render_result, render_table
from cli.server import parse_listen
from cli.shell import statement_complete
from engine.engine import Engine
from engine.results import StatementResult
from engine.topics.embedded import EmbeddedStore

VIEW = CatalogView(streams=["CLICKS", "CLICKSTREAM"], tables=["USERS"],
                   columns={"CLICKS": ["USERID", "PAGE"], "USERS": ["USERID", "REGION"]},
                   topics=["clicks", "users"], queries=["CSAS_X_1"])


def complete(text: str) -> list[str]:
    completer = KsqlCompleter(lambda: VIEW, ["COUNT", "CONCAT", "UCASE"])
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))]


def test_completion_by_context() -> None:
    assert complete("SHOW TAB") == ["TABLES"]
    assert complete("show tab") == ["tables"]
    assert complete("SELECT * FROM CL") == ["CLICKS", "CLICKSTREAM"]
    assert complete("SELECT * FROM u") == ["USERS"]
    assert "PAGE" not in complete("SELECT PA")  # columns come once the statement names its source
    completer = KsqlCompleter(lambda: VIEW, [])
    middle = Document("SELECT PA FROM clicks;", cursor_position=len("SELECT PA"))
    assert [c.text for c in completer.get_completions(middle, CompleteEvent())][:1] == ["PAGE"]
    assert complete("SELECT u FROM users WHERE REG") == ["REGION"]
    assert complete("PRINT c") == ["clicks"]
    assert "COUNT" in complete("SELECT CO")
    assert complete("TERMINATE CS") == ["CSAS_X_1"]
    assert complete("DESCRIBE EXT") == ["EXTENDED"]
    assert "help" in complete("he")


def test_statement_complete() -> None:
    assert statement_complete("SHOW STREAMS;")
    assert statement_complete("  ")
    assert statement_complete("help")
    assert statement_complete("run script 'x.sql'")
    assert not statement_complete("SELECT * FROM s")
    assert not statement_complete("SELECT ';' FROM s")
    assert statement_complete("SELECT ';' FROM s; -- done")
    assert not statement_complete("SELECT 1 /* ; */")


def test_highlight_tokens() -> None:
    styled = dict((v, s) for s, v in tokens("SELECT ucase(name), 'x' FROM s -- hi", frozenset({"UCASE"})))
    assert styled["SELECT"] == "class:keyword"
    assert styled["ucase"] == "class:function"
    assert styled["'x'"] == "class:string"
    assert styled["-- hi"] == "class:comment"
    assert styled["name"] == ""


def test_tables_fit_the_width() -> None:
    table = render_table(["A", "LONG"], [["x", "y" * 500]], width=60)
    assert all(len(line) <= 60 for line in table.splitlines())
    assert "…" in table
    assert fit_widths([3, 10], 100) == [3, 10]


def test_render_listings_and_messages() -> None:
    streams = StatementResult("SHOW STREAMS;", "streams", data=[
        {"name": "S", "topic": "s", "keyFormat": "KAFKA", "valueFormat": "JSON", "isWindowed": False}])
    text = render_result(streams, width=100)
    assert "Stream Name" in text and "| S " in text and "false" in text
    assert "Stream created" in render_result(StatementResult("x", "currentStatus", "Stream created"))


def test_entities_round_trip() -> None:
    for result in (StatementResult("SHOW TABLES;", "tables", data=[{"name": "T"}]),
                   StatementResult("SHOW PROPERTIES;", "properties", data={"a": "1"}),
                   StatementResult("SHOW VARIABLES;", "variables", data={"x": "y"})):
        entity = json.loads(json.dumps(to_entity(result)))
        back = from_entity(entity)
        assert (back.entity, back.data) == (result.entity, result.data)
    status = to_entity(StatementResult("CREATE ...", "currentStatus", "Stream created"), "stream/S/create", 3)
    assert status["commandStatus"] == {"status": "SUCCESS", "message": "Stream created", "queryId": None}
    assert status["commandSequenceNumber"] == 3


def test_remote_error_caret() -> None:
    err = RemoteError("line 2:8: mismatched input 'FORM'", 40001, "SELECT a\nFROM x FORM y;")
    assert err.render().splitlines()[1:] == ["FROM x FORM y;", "       ^"]
    assert RemoteError("no position", 40001, "x").render() == "no position"


def test_insert_statement_literals() -> None:
    engine = Engine()
    try:
        engine.execute("CREATE STREAM s (id INT KEY, name VARCHAR, tags ARRAY<VARCHAR>, attrs MAP<VARCHAR, INT>, "
                       "addr STRUCT<city VARCHAR, zip INT>) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);")
        source = engine.catalog.sources["S"]
        sql = insert_statement(source, {"ID": 1, "name": "o'hara", "tags": ["a"], "attrs": {"k": 2},
                                        "addr": {"CITY": "x", "zip": 9}})
        engine.execute(sql)
        rows = engine.execute("SELECT * FROM s;")[0].rows  # type: ignore[union-attr]
        assert rows == [[1, "o'hara", ["a"], [("k", 2)], {"CITY": "x", "ZIP": 9}]]
    finally:
        engine.close()


def test_parse_listen() -> None:
    assert parse_listen("0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert parse_listen("9001") == ("127.0.0.1", 9001)
    assert parse_listen("http://localhost:8088") == ("localhost", 8088)


def test_nexmark_proportions_and_bid_size() -> None:
    parts = generate("nexmark", 5000)
    assert {k: v.num_rows for k, v in parts.items()} == {"person": 100, "auction": 300, "bid": 4600}
    bids = [json.loads(v) for v in parts["bid"].column("value").to_pylist()]
    assert {"auction", "bidder", "price", "channel", "url", "dateTime"} <= bids[0].keys()
    sizes = [len(v) for v in parts["bid"].column("value").to_pylist()]
    assert 80 <= sum(sizes) / len(sizes) <= 160
    auctions = {json.loads(v)["id"] for v in parts["auction"].column("value").to_pylist()}
    assert {b["auction"] for b in bids} <= auctions | set(range(1000, 1000 + len(auctions)))


@pytest.mark.parametrize("name", ["clickstream", "pageviews", "users", "orders"])
def test_single_topic_quickstarts(name: str) -> None:
    batch = generate(name, 50)[""]
    assert batch.num_rows == 50
    assert all(json.loads(v) for v in batch.column("value").to_pylist())


def test_datagen_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "d")
    assert main(["datagen", "--quickstart", "nexmark", "--topic", "nx", "--count", "100", "--data-dir", data]) == 0
    assert main(["datagen", "--quickstart", "clickstream", "--rate", "500", "--count", "25", "--data-dir", data]) == 0
    assert "Wrote 25 clickstream records to clickstream." in capsys.readouterr().out
    store = EmbeddedStore(Path(data) / "topics")
    try:
        counts = {name: sum(store.topic(name).end_offsets()) for name in store.list_topics()}  # type: ignore[union-attr]
    finally:
        store.close()
    assert counts == {"nx_person": 2, "nx_auction": 6, "nx_bid": 92, "clickstream": 25}
