"""The processing log: records that failed to decode or evaluate, as a queryable stream.

Like ksqlDB's KSQL_PROCESSING_LOG, each error becomes a JSON record on the processing-log topic
with the query, the source topic, partition and offset, the error message and the raw bytes
(base64); the stream ``KSQL_PROCESSING_LOG`` over that topic is registered in the catalog so
users can query it. The failing record is skipped and the query goes on.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
import pyarrow as pa

from engine import types as t
from engine.catalog import Column, Source
from engine.topics.base import RAW_SCHEMA, TopicConfig

if TYPE_CHECKING:
    from engine.engine import Engine

STREAM_NAME = "KSQL_PROCESSING_LOG"
_ERROR_TYPE = t.struct([
    ("TARGET", t.STRING), ("ERRORMESSAGE", t.STRING), ("RECORDB64", t.STRING),
    ("TOPIC", t.STRING), ("PARTITION", t.INTEGER), ("OFFSET", t.BIGINT),
])
_MESSAGE_TYPE = t.struct([
    ("TYPE", t.INTEGER),
    ("DESERIALIZATIONERROR", _ERROR_TYPE),
    ("RECORDPROCESSINGERROR", t.struct([("ERRORMESSAGE", t.STRING), ("RECORD", t.STRING)])),
])
# ksqlDB's MESSAGE->TYPE codes.
DESERIALIZATION_ERROR = 0
RECORD_PROCESSING_ERROR = 1


@dataclass(frozen=True, slots=True)
class ProcessingError:
    """One failed record."""

    kind: int
    message: str
    topic: str
    partition: int
    offset: int
    raw: bytes | None = None
    target: str = "value"


class ProcessingLog:
    """Writes processing errors to the processing-log topic and counts them per query."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.topic_name = f"{engine.properties['ksql.service.id']}ksql_processing_log"
        self.count = 0
        self._registered = False

    def _ensure(self) -> None:
        if self._registered:
            return
        self._engine.store.create_topic(TopicConfig(self.topic_name))
        if STREAM_NAME not in self._engine.catalog.sources:
            self._engine.catalog.sources[STREAM_NAME] = Source(
                name=STREAM_NAME, kind="STREAM", topic=self.topic_name, key_format="KAFKA",
                value_format="JSON", columns=[
                    Column("LOGGER", t.STRING), Column("LEVEL", t.STRING), Column("TIME", t.BIGINT),
                    Column("MESSAGE", _MESSAGE_TYPE)],
                sql=f"CREATE STREAM {STREAM_NAME} ...")
        self._registered = True

    def write(self, query_id: str, errors: list[ProcessingError]) -> None:
        """Append the errors as processing-log records."""
        if not errors:
            return
        self._ensure()
        now = int(time.time() * 1000)
        values = [orjson.dumps(self._record(query_id, e, now)) for e in errors]
        n = len(values)
        batch = pa.RecordBatch.from_arrays([
            pa.nulls(n, pa.int32()), pa.array([0] * n, pa.int64()), pa.array([now] * n, pa.int64()),
            pa.nulls(n, pa.binary()), pa.array(values, pa.binary()), pa.nulls(n, RAW_SCHEMA.field("headers").type),
        ], schema=RAW_SCHEMA)
        topic = self._engine.store.topic(self.topic_name)
        if topic is not None:
            topic.produce(batch)
        self.count += n
        query = self._engine.running.get(query_id)
        if query is not None:
            query.stats.errors += n

    @staticmethod
    def _record(query_id: str, e: ProcessingError, now: int) -> dict[str, object]:
        raw = base64.b64encode(e.raw).decode() if e.raw is not None else None
        message: dict[str, object] = {"TYPE": e.kind}
        if e.kind == DESERIALIZATION_ERROR:
            message["DESERIALIZATIONERROR"] = {
                "TARGET": e.target, "ERRORMESSAGE": e.message, "RECORDB64": raw,
                "TOPIC": e.topic, "PARTITION": e.partition, "OFFSET": e.offset}
        else:
            message["RECORDPROCESSINGERROR"] = {"ERRORMESSAGE": e.message, "RECORD": raw}
        return {"LOGGER": f"processing.{query_id}", "LEVEL": "ERROR", "TIME": now, "MESSAGE": message}
