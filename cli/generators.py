"""More sample data, vectorised like ``engine.datagen``: clickstream (ksql-datagen's clickstream
quickstart schema) and Nexmark (the streaming benchmark's persons, auctions and bids, in the
benchmark's 1:3:46 proportion).

Each generator maps a range of event numbers to raw record batches per topic suffix; DuckDB
builds the keys and JSON values in one query per batch.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from engine import datagen
from engine.topics.base import RAW_SCHEMA

_CLICKSTREAM_KEY = "CAST(h(i * 11 + $seed + 7919) % 40 + 1 AS VARCHAR)"
_CLICKSTREAM_VALUE = (
    "to_json(struct_pack(_time := $t0 + i * $step, "
    "time := strftime(make_timestamp(($t0 + i * $step) * 1000), '%d/%b/%Y:%H:%M:%S +0000'), "
    "ip := '111.' || (h(i * 3 + $seed + 15838) % 255) || '.' || (h(i * 5 + $seed + 23757) % 255) || '.' || (h(i + $seed + 31676) % 255), "
    "request := (['GET /index.html HTTP/1.1', 'GET /site/user_status.html HTTP/1.1', "
    "'GET /site/login.html HTTP/1.1', 'GET /images/track.png HTTP/1.1', 'GET /site/cart.html HTTP/1.1', "
    "'POST /site/checkout.html HTTP/1.1'])[h(i * 7 + $seed + 39595) % 6 + 1], "
    "status := ([200, 200, 200, 200, 302, 404, 405, 407, 500])[h(i * 13 + $seed + 47514) % 9 + 1], "
    f"userid := CAST({_CLICKSTREAM_KEY} AS INTEGER), "
    "bytes := 100 + h(i * 17 + $seed + 55433) % 4000, "
    "agent := (['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', "
    "'Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)'])"
    "[h(i * 19 + $seed + 63352) % 4 + 1]))"
)

# Nexmark: in every 50 events, 1 person, 3 auctions, 46 bids. Ids start at 1000 as in the
# benchmark; bids go to recent auctions by recent people (hash-skewed, like its "hot" items).
_EPOCH = "(i // 50)"
_OFF = "(i % 50)"
_NEXMARK: dict[str, tuple[str, str, str]] = {
    "person": (
        f"{_OFF} = 0", f"CAST(1000 + {_EPOCH} AS VARCHAR)",
        f"to_json(struct_pack(id := 1000 + {_EPOCH}, "
        "name := (['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'])"
        "[h(i + $seed + 71271) % 11 + 1] || ' ' || (['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', "
        "'Smith', 'Jones', 'Noris'])[h(i * 3 + $seed + 79190) % 9 + 1], "
        f"emailAddress := 'p' || (1000 + {_EPOCH}) || '@nexmark.example', "
        "creditCard := lpad(CAST(h(i * 5 + $seed + 87109) % 10000 AS VARCHAR), 4, '0') || ' ' || "
        "lpad(CAST(h(i * 7 + $seed + 95028) % 10000 AS VARCHAR), 4, '0'), "
        "city := (['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', "
        "'Kent', 'Cheyenne'])[h(i * 11 + $seed + 102947) % 10 + 1], "
        "state := (['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'])[h(i * 13 + $seed + 110866) % 6 + 1], "
        "dateTime := $t0 + i * $step, extra := ''))",
    ),
    "auction": (
        f"{_OFF} BETWEEN 1 AND 3", f"CAST(1000 + {_EPOCH} * 3 + {_OFF} - 1 AS VARCHAR)",
        f"to_json(struct_pack(id := 1000 + {_EPOCH} * 3 + {_OFF} - 1, "
        "itemName := 'item-' || (h(i + $seed + 118785) % 100000), description := 'a fine item', "
        "initialBid := 100 + h(i * 3 + $seed + 126704) % 10000, reserve := 200 + h(i * 5 + $seed + 134623) % 20000, "
        "dateTime := $t0 + i * $step, expires := $t0 + i * $step + 10000 + h(i * 7 + $seed + 142542) % 50000, "
        f"seller := 1000 + greatest(0, {_EPOCH} - h(i * 11 + $seed + 150461) % 10), "
        "category := 10 + h(i * 13 + $seed + 158380) % 5, extra := ''))",
    ),
    "bid": (
        f"{_OFF} >= 4", f"CAST(1000 + greatest(0, {_EPOCH} * 3 - h(i * 17 + $seed + 166299) % 20) AS VARCHAR)",
        f"to_json(struct_pack(auction := 1000 + greatest(0, {_EPOCH} * 3 - h(i * 17 + $seed + 174218) % 20), "
        f"bidder := 1000 + greatest(0, {_EPOCH} - h(i * 19 + $seed + 182137) % 50), "
        "price := 100 + h(i * 23 + $seed + 190056) % 100000, "
        "channel := (['Google', 'Facebook', 'Baidu', 'Apple'])[h(i * 29 + $seed + 197975) % 4 + 1], "
        "url := 'https://nexmark.example/item?id=' || (h(i * 31 + $seed + 205894) % 1000), "
        "dateTime := $t0 + i * $step, extra := ''))",
    ),
}

NEXMARK_PARTS = tuple(_NEXMARK)


def quickstarts() -> list[str]:
    """Every data set `streamsql datagen --quickstart` knows."""
    return sorted({*datagen.quickstarts(), "clickstream", "nexmark"})


def topics_for(name: str, topic: str) -> list[str]:
    """The topics a data set writes: one, or ``<topic>_person|auction|bid`` for Nexmark."""
    return [f"{topic}_{part}" for part in NEXMARK_PARTS] if name == "nexmark" else [topic]


def _raw(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, int]) -> pa.RecordBatch:
    table = con.sql(sql, params=params).to_arrow_table()
    n = table.num_rows
    return pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int32()), pa.nulls(n, pa.int64()).fill_null(0),
        table.column("ts").combine_chunks().cast(pa.int64()),
        table.column("key").combine_chunks().cast(pa.binary()), table.column("value").combine_chunks().cast(pa.binary()),
        pa.nulls(n, RAW_SCHEMA.field("headers").type),
    ], schema=RAW_SCHEMA)


def _select(key_sql: str, value_sql: str, where: str = "TRUE") -> str:
    return (f"SELECT CAST({key_sql} AS VARCHAR) AS key, CAST({value_sql} AS VARCHAR) AS value, "
            f"$t0 + i * $step AS ts FROM range($start, $end) AS r(i) WHERE {where} ORDER BY i")


def generate(name: str, count: int, start: int = 0, seed: int = 42, t0: int = 1_700_000_000_000,
             step_ms: int = 10) -> dict[str, pa.RecordBatch]:
    """Events ``start`` .. ``start + count`` of data set ``name`` as raw batches by topic suffix
    ("" for single-topic data sets; "person", "auction", "bid" for Nexmark)."""
    if name in datagen.quickstarts():
        return {"": datagen.generate(name, count, start=start, seed=seed, t0=t0)}
    params = {"seed": seed, "t0": t0, "start": start, "end": start + count, "step": step_ms}
    con = duckdb.connect()
    # hash() is UBIGINT: a signed macro keeps list indexes and `epoch - h % n` arithmetic valid.
    con.execute("CREATE MACRO h(x) AS CAST(hash(x) % 1000003 AS BIGINT)")
    try:
        if name == "clickstream":
            return {"": _raw(con, _select(_CLICKSTREAM_KEY, _CLICKSTREAM_VALUE), params)}
        if name == "nexmark":
            return {part: _raw(con, _select(key, value, where), params)
                    for part, (where, key, value) in _NEXMARK.items()}
    finally:
        con.close()
    raise ValueError(f"Unknown quickstart {name!r}; choose one of {', '.join(quickstarts())}")
