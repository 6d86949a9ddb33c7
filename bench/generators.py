"""Vectorised input generators: Nexmark (person, auction, bid) and pageviews (plus users).

DuckDB builds every key and JSON value in one query per batch over ``range(start, end)``: no
per-record Python. Records are deterministic (apart from the start time ``T0``), so runs are repeatable.

Nexmark: in every 50 events, 1 person, 3 auctions and 46 bids (the benchmark's 1:3:46), event
time advancing ``1000 / rate`` ms per event (Nexmark's default first-event rate is 10,000/s).
Bids go to recently created auctions by recent people, so windowed counts and the person-auction
join see realistic key reuse. A bid value is ~107 bytes of JSON (``bid_value_bytes`` measures it): Nexmark pads ``extra`` to
reach its 100-byte average bid; ours is that size without padding, so bids carry no ``extra``.
The record timestamp equals the ``dateTime`` field; the workloads use the record timestamp as
event time (no ``TIMESTAMP=`` property), which lets the latency runs stamp records at produce time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import duckdb
import pyarrow as pa

from engine.topics.base import RAW_SCHEMA

# Event time starts two hours ago, on an hour boundary: recent enough that a broker's time-based
# retention (7 days by default) does not delete the inputs mid-run, and the 1-hour memory window
# holds 10 M records at 10k/s.
T0 = (int(time.time() * 1000) // 3_600_000 - 2) * 3_600_000
NEXMARK_PARTS = ("person", "auction", "bid")
_EPOCH = "(i // 50)"
_OFF = "(i % 50)"
_TS = "($t0 + (i * 1000) // $rate)"

# part -> (row filter over the event number i, key, JSON value)
_NEXMARK: dict[str, tuple[str, str, str]] = {
    "person": (
        f"{_OFF} = 0",
        f"1000 + {_EPOCH}",
        f"struct_pack(id := 1000 + {_EPOCH}, "
        "name := (['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah'])[h(i, 1) % 9 + 1]"
        " || ' ' || (['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith'])[h(i, 2) % 7 + 1], "
        f"emailAddress := 'p' || (1000 + {_EPOCH}) || '@nx.io', "
        "creditCard := lpad(CAST(h(i, 3) % 10000 AS VARCHAR), 4, '0') || ' ' || lpad(CAST(h(i, 4) % 10000 AS VARCHAR), 4, '0'), "
        "city := (['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle'])"
        "[h(i, 5) % 8 + 1], "
        "state := (['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'])[h(i, 6) % 6 + 1], "
        f"dateTime := {_TS}, extra := '')",
    ),
    "auction": (
        f"{_OFF} BETWEEN 1 AND 3",
        f"1000 + {_EPOCH} * 3 + {_OFF} - 1",
        f"struct_pack(id := 1000 + {_EPOCH} * 3 + {_OFF} - 1, "
        "itemName := 'item-' || h(i, 7) % 100000, description := 'a fine item', "
        "initialBid := 100 + h(i, 8) % 10000, reserve := 200 + h(i, 9) % 20000, "
        f"dateTime := {_TS}, expires := {_TS} + 10000 + h(i, 10) % 50000, "
        f"seller := 1000 + greatest(0, {_EPOCH} - h(i, 11) % 10), category := 10 + h(i, 12) % 5, extra := '')",
    ),
    "bid": (
        f"{_OFF} >= 4",
        f"1000 + greatest(0, {_EPOCH} * 3 - h(i, 13) % 60)",
        f"struct_pack(auction := 1000 + greatest(0, {_EPOCH} * 3 - h(i, 13) % 60), "
        f"bidder := 1000 + greatest(0, {_EPOCH} - h(i, 14) % 500), price := 100 + h(i, 15) % 100000, "
        "channel := (['Google', 'Facebook', 'Baidu', 'Apple'])[h(i, 16) % 4 + 1], "
        "url := '/item/' || h(i, 17) % 10000, dateTime := " + _TS + ")",
    ),
}

_PAGEVIEWS = (
    "'User_' || {user}",
    "struct_pack(viewtime := " + _TS + ", userid := 'User_' || {user}, pageid := 'Page_' || (h(i, 21) % 1000))",
)
_USERS = (
    "'User_' || i",
    "struct_pack(registertime := $t0 + i, userid := 'User_' || i, regionid := 'Region_' || (h(i, 22) % 20), "
    "gender := (['MALE', 'FEMALE', 'OTHER'])[h(i, 23) % 3 + 1])",
)


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # hash() is UBIGINT; a signed, salted macro keeps list indexes and subtraction valid.
    con.execute("CREATE MACRO h(x, salt) AS CAST(hash(x * 1000003 + salt + $seed) % 1000003 AS BIGINT)".replace(
        "$seed", "42"))
    return con


def _raw(con: duckdb.DuckDBPyConnection, key: str, value: str, where: str, params: dict[str, int]) -> pa.RecordBatch:
    sql = (f"SELECT CAST(CAST({key} AS VARCHAR) AS BLOB) AS key, CAST(CAST(to_json({value}) AS VARCHAR) AS BLOB) "
           f"AS value, {_TS} AS ts FROM range($start, $end) AS r(i) WHERE {where} ORDER BY i")
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    table = con.sql(sql, params=used).to_arrow_table()
    n = table.num_rows
    return pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int32()), pa.nulls(n, pa.int64()).fill_null(0),
        table.column("ts").combine_chunks().cast(pa.int64()),
        table.column("key").combine_chunks(), table.column("value").combine_chunks(),
        pa.nulls(n, RAW_SCHEMA.field("headers").type),
    ], schema=RAW_SCHEMA)


def nexmark(start: int, end: int, parts: tuple[str, ...] = NEXMARK_PARTS, rate: int = 10_000,
            t0: int = T0) -> dict[str, pa.RecordBatch]:
    """Nexmark events ``start`` .. ``end`` (event numbers) as raw batches per part."""
    con = _connect()
    params = {"start": start, "end": end, "rate": rate, "t0": t0}
    try:
        return {p: _raw(con, _NEXMARK[p][1], _NEXMARK[p][2], _NEXMARK[p][0], params) for p in parts}
    finally:
        con.close()


def pageviews(start: int, end: int, users: int = 10_000, distinct: bool = False, rate: int = 10_000,
              t0: int = T0) -> pa.RecordBatch:
    """Pageviews ``start`` .. ``end`` keyed by user: ``users`` users (hash-spread), or a new user
    per record when ``distinct`` (the memory runs: one state row per record)."""
    user = "i" if distinct else f"(h(i, 20) % {users})"
    con = _connect()
    try:
        return _raw(con, _PAGEVIEWS[0].format(user=user), _PAGEVIEWS[1].format(user=user), "TRUE",
                    {"start": start, "end": end, "rate": rate, "t0": t0})
    finally:
        con.close()


def users(count: int, t0: int = T0) -> pa.RecordBatch:
    """``count`` user profiles (``User_0`` ..), the table side of the enrichment join."""
    con = _connect()
    try:
        return _raw(con, _USERS[0], _USERS[1], "TRUE", {"start": 0, "end": count, "rate": 1000, "t0": t0})
    finally:
        con.close()


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` ranges covering ``0 .. total`` in steps of ``size``."""
    for start in range(0, total, size):
        yield start, min(total, start + size)


def events_for_bids(bids: int) -> int:
    """Nexmark events needed for at least ``bids`` bids (46 of every 50 events)."""
    return -(-bids * 50 // 46)


def events_for_auctions(auctions: int) -> int:
    """Nexmark events needed for at least ``auctions`` auctions (3 of every 50 events)."""
    return -(-auctions * 50 // 3)


def bid_value_bytes(sample: int = 10_000) -> float:
    """Mean size of a bid's JSON value in bytes."""
    values = nexmark(0, events_for_bids(sample), parts=("bid",))["bid"].column("value")
    import pyarrow.compute as pc

    return pc.mean(pc.binary_length(values)).as_py()
