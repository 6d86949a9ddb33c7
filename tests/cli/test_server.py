"""The HTTP server, spoken to with plain HTTP the way ksqlDB's REST API docs do it."""

from __future__ import annotations

import base64
import http.client
import json
import threading

from cli_support import request, request_json, wait_for

from cli.server import start_server
from engine.engine import Engine

CREATE_PAGEVIEWS = ("CREATE STREAM pageviews (viewtime BIGINT, userid VARCHAR, pageid VARCHAR) "
                    "WITH (KAFKA_TOPIC = 'pageviews', VALUE_FORMAT = 'JSON', PARTITIONS = 1);")


def _ksql(url: str, sql: str) -> tuple[int, object]:
    return request_json(url, "POST", "/ksql", {"ksql": sql, "streamsProperties": {}})


def _insert(url: str, userid: str, pageid: str, viewtime: int = 1) -> None:
    status, body = _ksql(url, f"INSERT INTO pageviews (viewtime, userid, pageid) VALUES ({viewtime}, '{userid}', "
                              f"'{pageid}');")
    assert status == 200, body


def test_info_and_healthcheck(server) -> None:
    srv, _ = server
    status, body = request_json(srv.url, "GET", "/info")
    assert status == 200
    info = body["KsqlServerInfo"]
    assert info["serverStatus"] == "RUNNING"
    assert {"version", "kafkaClusterId", "ksqlServiceId"} <= info.keys()
    status, body = request_json(srv.url, "GET", "/healthcheck")
    assert status == 200 and body["isHealthy"] is True


def test_ksql_create_and_show_streams(server) -> None:
    srv, _ = server
    status, body = _ksql(srv.url, CREATE_PAGEVIEWS + " SHOW STREAMS;")
    assert status == 200
    created, listing = body
    assert created["@type"] == "currentStatus"
    assert created["commandId"] == "stream/PAGEVIEWS/create"
    assert created["commandStatus"]["status"] == "SUCCESS"
    assert listing["@type"] == "streams"
    assert listing["streams"] == [{"name": "PAGEVIEWS", "topic": "pageviews", "keyFormat": "KAFKA",
                                   "valueFormat": "JSON", "isWindowed": False, "type": "STREAM"}]
    status, body = request_json(srv.url, "GET", "/status/stream/PAGEVIEWS/create")
    assert status == 200 and body["status"] == "SUCCESS"
    status, body = _ksql(srv.url, "DESCRIBE pageviews;")
    assert body[0]["@type"] == "sourceDescription"
    assert [f["name"] for f in body[0]["sourceDescription"]["fields"]] == ["VIEWTIME", "USERID", "PAGEID"]


def test_ksql_errors_have_ksqldb_bodies(server) -> None:
    srv, _ = server
    status, body = _ksql(srv.url, "SHOW STREAMS; CREATE STREAM oops (a INT) WITH (KAFKA_TOPIC = 'nope', "
                                  "VALUE_FORMAT = 'JSON');")
    assert status == 400
    assert body["@type"] == "statement_error" and body["error_code"] == 40001
    assert "nope" in body["message"]
    assert body["statementText"].startswith("CREATE STREAM oops")
    assert [e["@type"] for e in body["entities"]] == ["streams"]
    status, body = _ksql(srv.url, "SELEC * FROM pageviews;")
    assert status == 400 and body["@type"] == "statement_error" and body["error_code"] == 40001
    assert body["message"].startswith("line 1:1:")
    status, body = _ksql(srv.url, CREATE_PAGEVIEWS + " SELECT * FROM pageviews;")
    assert status == 400 and body["error_code"] == 40002
    status, body = request_json(srv.url, "POST", "/ksql", b"{not json")
    assert status == 400 and body["@type"] == "generic_error" and body["error_code"] == 40000


def test_pull_query_on_a_table_over_query_stream(server) -> None:
    srv, _ = server
    assert _ksql(srv.url, CREATE_PAGEVIEWS)[0] == 200
    status, body = _ksql(srv.url, "CREATE TABLE views_per_user AS SELECT userid, COUNT(*) AS views "
                                  "FROM pageviews GROUP BY userid EMIT CHANGES;")
    assert status == 200, body
    for user in ("alice", "bob", "alice"):
        _insert(srv.url, user, "home")

    def alice_views() -> list[object] | None:
        status, raw, _ = request(srv.url, "POST", "/query-stream",
                                 {"sql": "SELECT * FROM views_per_user WHERE userid = 'alice';", "properties": {}})
        assert status == 200, raw
        header, *rows = [json.loads(line) for line in raw.decode().splitlines()]
        assert header["columnNames"] == ["USERID", "VIEWS"]
        return rows if rows == [["alice", 2]] else None

    wait_for(alice_views, what="the table to count alice's two views")


def test_push_query_streams_rows_and_close_query_ends_it(server) -> None:
    srv, engine = server
    assert _ksql(srv.url, CREATE_PAGEVIEWS)[0] == 200
    _insert(srv.url, "alice", "home")
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=30)
    conn.request("POST", "/query-stream", body=json.dumps(
        {"sql": "SELECT userid, pageid FROM pageviews EMIT CHANGES;", "properties": {}}),
        headers={"Accept": "application/vnd.ksqlapi.delimited.v1"})
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.headers["Transfer-Encoding"] == "chunked"
    header = json.loads(resp.readline())
    assert header["columnNames"] == ["USERID", "PAGEID"] and header["columnTypes"] == ["STRING", "STRING"]
    assert json.loads(resp.readline()) == ["alice", "home"]
    _insert(srv.url, "bob", "cart")
    assert json.loads(resp.readline()) == ["bob", "cart"]
    status, _ = request_json(srv.url, "POST", "/close-query", {"queryId": header["queryId"]})
    assert status == 200
    assert resp.read() == b""  # the response ends
    conn.close()
    wait_for(lambda: header["queryId"] not in engine.running, what="the push query to stop")


def test_push_query_with_limit_as_json_and_on_query_v1(server) -> None:
    srv, _ = server
    assert _ksql(srv.url, CREATE_PAGEVIEWS)[0] == 200
    for user in ("a", "b", "c"):
        _insert(srv.url, user, "p")
    status, body = request_json(srv.url, "POST", "/query-stream",
                                {"sql": "SELECT userid FROM pageviews EMIT CHANGES LIMIT 2;"},
                                headers={"Accept": "application/json"})
    assert status == 200
    assert body[1:] == [["a"], ["b"]] and body[0]["columnNames"] == ["USERID"]
    status, body = request_json(srv.url, "POST", "/query",
                                {"ksql": "SELECT userid FROM pageviews EMIT CHANGES LIMIT 2;", "streamsProperties": {}})
    assert status == 200
    assert body[0]["header"]["schema"] == "`USERID` STRING"
    assert [r["row"]["columns"] for r in body[1:3]] == [["a"], ["b"]]
    assert body[3] == {"finalMessage": "Limit Reached"}


def test_client_disconnect_stops_the_push_query(server) -> None:
    srv, engine = server
    assert _ksql(srv.url, CREATE_PAGEVIEWS)[0] == 200
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=30)
    conn.request("POST", "/query-stream", body=json.dumps({"sql": "SELECT * FROM pageviews EMIT CHANGES;"}))
    resp = conn.getresponse()
    qid = json.loads(resp.readline())["queryId"]
    assert qid in engine.running
    conn.close()
    wait_for(lambda: qid not in engine.running, what="the server to notice the client left")


def test_inserts_stream_acks_each_row(server) -> None:
    srv, _ = server
    assert _ksql(srv.url, CREATE_PAGEVIEWS)[0] == 200
    lines = [{"target": "pageviews"}, {"viewtime": 5, "userid": "u1", "pageid": "p1"},
             {"USERID": "u2", "PAGEID": "p2"}, {"nope": 1}]
    status, raw, _ = request(srv.url, "POST", "/inserts-stream",
                             "\n".join(json.dumps(line) for line in lines).encode())
    assert status == 200
    acks = [json.loads(line) for line in raw.decode().splitlines()]
    assert acks[:2] == [{"status": "ok", "seq": 0}, {"status": "ok", "seq": 1}]
    assert acks[2]["status"] == "error" and acks[2]["seq"] == 2
    status, body = request_json(srv.url, "POST", "/query-stream",
                                {"sql": "SELECT userid, pageid FROM pageviews;"}, headers={"Accept": "application/json"})
    assert body[1:] == [["u1", "p1"], ["u2", "p2"]]


def test_basic_auth() -> None:
    engine = Engine()
    srv = start_server(engine, "127.0.0.1:0", auth="fred:secret")
    try:
        status, body = request_json(srv.url, "GET", "/info")
        assert status == 401 and body["error_code"] == 40100
        bad = {"Authorization": "Basic " + base64.b64encode(b"fred:wrong").decode()}
        assert request(srv.url, "GET", "/info", headers=bad)[0] == 401
        good = {"Authorization": "Basic " + base64.b64encode(b"fred:secret").decode()}
        assert request(srv.url, "GET", "/info", headers=good)[0] == 200
    finally:
        srv.shutdown_all()
        engine.close()


def test_concurrent_statements_and_push_query(server) -> None:
    """Statements keep working while a push query streams on another connection."""
    srv, _ = server
    assert _ksql(srv.url, CREATE_PAGEVIEWS)[0] == 200
    received: list[object] = []
    ready = threading.Event()

    def consume() -> None:
        status, raw, _ = request(srv.url, "POST", "/query-stream",
                                 {"sql": "SELECT pageid FROM pageviews EMIT CHANGES LIMIT 5;"})
        received.extend(json.loads(line) for line in raw.decode().splitlines()[1:])
        ready.set()

    thread = threading.Thread(target=consume)
    thread.start()
    for i in range(5):
        _insert(srv.url, "u", f"p{i}")
        assert _ksql(srv.url, "SHOW STREAMS;")[0] == 200
    assert ready.wait(30)
    thread.join()
    assert received == [[f"p{i}"] for i in range(5)]


def test_inserts_stream_with_a_chunked_request_body(server) -> None:
    srv, _ = server
    assert _ksql(srv.url, CREATE_PAGEVIEWS)[0] == 200
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), port, timeout=30)
    chunks = [b'{"target": "PAGEVIEWS"}\n{"userid": "a", ', b'"pageid": "x"}\n', b'{"userid": "b"}']
    conn.request("POST", "/inserts-stream", body=iter(chunks), encode_chunked=True,
                 headers={"Transfer-Encoding": "chunked"})
    resp = conn.getresponse()
    acks = [json.loads(line) for line in resp.read().decode().splitlines()]
    conn.close()
    assert acks == [{"status": "ok", "seq": 0}, {"status": "ok", "seq": 1}]
