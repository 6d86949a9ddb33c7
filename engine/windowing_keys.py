"""Windowed record keys in Kafka Streams' formats (what ksqlDB writes for windowed tables).

Time windows (tumbling, hopping): the serialised key, then the window start as 8 big-endian
bytes. Session windows: the serialised key, then the window end, then the start (8 bytes each).
"""

from __future__ import annotations

import struct
from typing import Any


def split_windowed_key(data: bytes, kind: str, size_ms: int | None = None) -> tuple[bytes, dict[str, Any]]:
    """(inner key bytes, {start, end, type}) of a windowed key."""
    if kind == "SESSION":
        end, start = struct.unpack(">qq", data[-16:])
        return data[:-16], {"start": start, "end": end, "type": "session"}
    (start,) = struct.unpack(">q", data[-8:])
    end = start + size_ms if size_ms is not None else start
    return data[:-8], {"start": start, "end": end, "type": "time"}


def windowed_key(inner: bytes | None, kind: str, start: int, end: int) -> bytes:
    """Serialise a windowed key (see the module docstring)."""
    base = inner or b""
    if kind == "SESSION":
        return base + struct.pack(">qq", end, start)
    return base + struct.pack(">q", start)
