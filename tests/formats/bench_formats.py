"""Ad hoc benchmark (not a test): JSON/DELIMITED/KAFKA decode and encode throughput.

Run: ``.venv/bin/python tests/formats/bench_formats.py [records]``. Prints records/s per step
for ~100-byte records of 5 columns (INTEGER, BIGINT, STRING, DOUBLE, STRING), in 10k batches.
"""

from __future__ import annotations

import sys
import time

import orjson
import pyarrow as pa
import pyarrow.json as pj

from engine import types as T
from engine.formats import get_format
from engine.types import to_arrow

COLUMNS = [("ID", T.INTEGER), ("TS", T.BIGINT), ("NAME", T.STRING), ("PRICE", T.DOUBLE), ("CITY", T.STRING)]


def _records(n: int) -> pa.Array:
    rows = [
        {
            "id": i,
            "ts": 1_700_000_000_000 + i,
            "name": f"user-{i % 1000}",
            "price": i * 0.25,
            "city": "Amsterdam",
        }
        for i in range(n)
    ]
    return pa.array([orjson.dumps(r) for r in rows], pa.binary())


def _rate(label: str, n: int, fn: object, repeat: int = 3) -> None:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    print(f"{label:<32} {n / best / 1e6:6.2f} M records/s")


def main(total: int = 100_000, batch: int = 10_000) -> None:
    data = _records(total)
    print(f"{total} records, mean {data.nbytes / total:.0f} bytes, batches of {batch}")
    chunks = [data.slice(i, batch) for i in range(0, total, batch)]
    schema = pa.schema([pa.field(name.lower(), to_arrow(t)) for name, t in COLUMNS])
    lines = [pa.py_buffer(b"\n".join(c.to_pylist()) + b"\n") for c in chunks]
    read = pj.ParseOptions(explicit_schema=schema)
    options = pj.ReadOptions(use_threads=False, block_size=1 << 24)
    _rate(
        "baseline: raw pyarrow read_json",
        total,
        lambda: [pj.read_json(pa.BufferReader(b), options, read) for b in lines],
    )
    fmt = get_format("JSON", {}, is_key=False)
    decoded = [fmt.decode(c, COLUMNS).table for c in chunks]
    _rate("JSON decode", total, lambda: [fmt.decode(c, COLUMNS) for c in chunks])
    _rate("JSON encode", total, lambda: [fmt.encode(t, COLUMNS) for t in decoded])
    delimited = get_format("DELIMITED", {}, is_key=False)
    csv_chunks = [delimited.encode(t, COLUMNS) for t in decoded]
    _rate("DELIMITED decode", total, lambda: [delimited.decode(c, COLUMNS) for c in csv_chunks])
    _rate("DELIMITED encode", total, lambda: [delimited.encode(t, COLUMNS) for t in decoded])
    kafka = get_format("KAFKA", {}, is_key=True)
    keys = [t.select(["TS"]) for t in decoded]
    raw = [kafka.encode(k, [("TS", T.BIGINT)]) for k in keys]
    _rate("KAFKA BIGINT decode", total, lambda: [kafka.decode(r, [("TS", T.BIGINT)]) for r in raw])
    _rate("KAFKA BIGINT encode", total, lambda: [kafka.encode(k, [("TS", T.BIGINT)]) for k in keys])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
