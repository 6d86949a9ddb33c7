"""Sample data like ksql-datagen's quickstarts, generated vectorised (DuckDB builds the JSON).

Records are deterministic for a given seed so demos and benchmarks are repeatable.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from engine.topics.base import RAW_SCHEMA, Topic

# Each quickstart: (key expression, value JSON expression) over DuckDB's range(n) as ``i``.
_QUICKSTARTS: dict[str, tuple[str, str]] = {
    "pageviews": (
        "'User_' || (hash(i * 7 + $seed) % 9 + 1)",
        "to_json(struct_pack(viewtime := $t0 + i * 10, userid := 'User_' || (hash(i * 7 + $seed) % 9 + 1), "
        "pageid := 'Page_' || (hash(i * 13 + $seed) % 90 + 10)))",
    ),
    "users": (
        "'User_' || (i % 9 + 1)",
        "to_json(struct_pack(registertime := $t0 + i * 1000, userid := 'User_' || (i % 9 + 1), "
        "regionid := 'Region_' || (hash(i + $seed) % 9 + 1), "
        "gender := CASE hash(i * 3 + $seed) % 3 WHEN 0 THEN 'MALE' WHEN 1 THEN 'FEMALE' ELSE 'OTHER' END))",
    ),
    "orders": (
        "CAST(i AS VARCHAR)",
        "to_json(struct_pack(ordertime := $t0 + i * 100, orderid := i, itemid := 'Item_' || (hash(i + $seed) % 500), "
        "orderunits := round((hash(i * 5 + $seed) % 1000) / 100.0, 2), "
        "address := struct_pack(city := 'City_' || (hash(i + $seed) % 50), state := 'State_' || (hash(i + $seed) % 20), "
        "zipcode := 10000 + hash(i + $seed) % 80000)))",
    ),
}


def quickstarts() -> list[str]:
    """Names of the available quickstart data sets."""
    return sorted(_QUICKSTARTS)


def generate(name: str, count: int, start: int = 0, seed: int = 42, t0: int = 1_700_000_000_000) -> pa.RecordBatch:
    """``count`` records of quickstart ``name`` as a raw batch (keys and JSON values as bytes)."""
    key_sql, value_sql = _QUICKSTARTS[name]
    sql = (f"SELECT CAST(k AS BLOB) AS key, CAST(v AS BLOB) AS value, ts FROM ("
           f"SELECT {key_sql} AS k, CAST({value_sql} AS VARCHAR) AS v, $t0 + i * 10 AS ts "
           f"FROM range($start, $end) AS r(i))")
    con = duckdb.connect()
    try:
        table = con.sql(sql, params={"seed": seed, "t0": t0, "start": start, "end": start + count}).to_arrow_table()
    finally:
        con.close()
    n = table.num_rows
    return pa.RecordBatch.from_arrays([
        pa.nulls(n, pa.int32()), pa.nulls(n, pa.int64()).fill_null(0), table.column("ts").combine_chunks().cast(pa.int64()),
        table.column("key").combine_chunks(), table.column("value").combine_chunks(),
        pa.nulls(n, RAW_SCHEMA.field("headers").type),
    ], schema=RAW_SCHEMA)


def produce(topic: Topic, name: str, count: int, batch_size: int = 50_000, seed: int = 42) -> int:
    """Write ``count`` generated records to ``topic`` in batches; returns the count written."""
    written = 0
    while written < count:
        n = min(batch_size, count - written)
        topic.produce(generate(name, n, start=written, seed=seed))
        written += n
    return written
