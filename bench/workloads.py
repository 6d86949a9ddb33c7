"""The benchmark workloads, each in the KSQL dialect, with how it differs from published Nexmark.

A workload is a set of input topics (filled by a generator before the engine starts), the DDL
for its sources and one persistent query. In the SQL, ``{p}`` prefixes the input topics (one
generated data set, shared by the workloads of a run that read the same input) and ``{o}`` the
output topic (one per measurement), so runs on one broker never collide. Events = records the query
consumes (all of its inputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Sources over the generator's topics. Event time is the record timestamp (equal to the
# ``dateTime``/``viewtime`` field in generated data), so no TIMESTAMP property: see generators.
_BID = """CREATE STREAM bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
  dateTime BIGINT) WITH (KAFKA_TOPIC = '{p}bid', VALUE_FORMAT = 'JSON');"""
_PERSON = """CREATE STREAM person (id BIGINT, name VARCHAR, emailAddress VARCHAR, creditCard VARCHAR,
  city VARCHAR, state VARCHAR, dateTime BIGINT, extra VARCHAR) WITH (KAFKA_TOPIC = '{p}person', VALUE_FORMAT = 'JSON');"""
_AUCTION = """CREATE STREAM auction (id BIGINT, itemName VARCHAR, description VARCHAR, initialBid BIGINT,
  reserve BIGINT, dateTime BIGINT, expires BIGINT, seller BIGINT, category BIGINT, extra VARCHAR)
  WITH (KAFKA_TOPIC = '{p}auction', VALUE_FORMAT = 'JSON');"""
_PAGEVIEWS = """CREATE STREAM pageviews (viewtime BIGINT, userid VARCHAR, pageid VARCHAR)
  WITH (KAFKA_TOPIC = '{p}pageviews', VALUE_FORMAT = 'JSON');"""
_USERS = """CREATE TABLE users (userid VARCHAR PRIMARY KEY, registertime BIGINT, regionid VARCHAR, gender VARCHAR)
  WITH (KAFKA_TOPIC = '{p}users', VALUE_FORMAT = 'JSON');"""


@dataclass(frozen=True, slots=True)
class Workload:
    """One benchmark query.

    Attributes:
        name: the name in results.
        family: the generated data set: ``nexmark``, ``pageviews`` (with its ``users`` table) or
            ``distinct`` (pageviews with a new user per record).
        inputs: the topics of that data set the query reads (their suffixes).
        sql: DDL plus one persistent query; ``{p}`` prefixes input topics, ``{o}`` the output.
        differs: how it differs from the published query (one line, shown in the report).
        sink: the output topic's suffix (latency runs read it).
        needs_joins: measured only once the engine supports joins (else reported pending).
        scale: input size relative to the run's base event count (cheap queries get more).
    """

    name: str
    family: str
    inputs: tuple[str, ...]
    sql: str
    differs: str
    sink: str
    needs_joins: bool = False
    scale: float = 1.0
    tags: tuple[str, ...] = field(default=())


WORKLOADS: list[Workload] = [
    Workload(
        "nexmark-q0", "nexmark", ("bid",),
        # Nexmark q0: SELECT auction, bidder, price, dateTime, extra FROM bid.
        _BID + """
CREATE STREAM q0 WITH (KAFKA_TOPIC = '{o}q0') AS
  SELECT auction, bidder, price, dateTime FROM bid EMIT CHANGES;""",
        "pass-through of every bid (no `extra` column: our bids are ~100 B without padding)",
        "q0", tags=("stateless",)),
    Workload(
        "nexmark-q1", "nexmark", ("bid",),
        # Nexmark q1: SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid.
        _BID + """
CREATE STREAM q1 WITH (KAFKA_TOPIC = '{o}q1') AS
  SELECT auction, bidder, 0.908 * price AS price, dateTime FROM bid EMIT CHANGES;""",
        "same dollar->euro projection (`0.908 * price`, a DECIMAL as in ksqlDB), no `extra`",
        "q1", tags=("stateless",)),
    Workload(
        "nexmark-q2", "nexmark", ("bid",),
        # Nexmark q2 (Flink/RisingWave form): SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0.
        _BID + """
CREATE STREAM q2 WITH (KAFKA_TOPIC = '{o}q2') AS
  SELECT auction, price FROM bid WHERE auction % 123 = 0 EMIT CHANGES;""",
        "`MOD(auction, 123) = 0` written with KSQL's `%` operator; same selectivity (~1/123)",
        "q2", tags=("stateless",)),
    Workload(
        "nexmark-q5", "nexmark", ("bid",),
        # Nexmark q5 (hot items): per 10 s window sliding by 2 s, the auctions with the most bids
        # (a count per auction, then the max per window joined back).
        _BID + """
CREATE TABLE q5 WITH (KAFKA_TOPIC = '{o}q5') AS
  SELECT auction, COUNT(*) AS num FROM bid
  WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS)
  GROUP BY auction EMIT CHANGES;""",
        "only the hopping count per auction (10 s / 2 s); KSQL cannot take the max over a windowed "
        "table, so no 'hottest' selection; one change per input per window (5 per bid)",
        "q5", scale=0.25, tags=("windowed",)),
    Workload(
        "nexmark-q7", "nexmark", ("bid",),
        # Nexmark q7 (highest bid): the bids whose price is the max of their 10 s tumbling window
        # (a global windowed MAX joined back to the bids).
        _BID + """
CREATE TABLE q7 WITH (KAFKA_TOPIC = '{o}q7') AS
  SELECT channel, MAX(price) AS maxprice FROM bid
  WINDOW TUMBLING (SIZE 10 SECONDS)
  GROUP BY channel EMIT CHANGES;""",
        "tumbling 10 s MAX(price) grouped by channel (KSQL needs a GROUP BY; 4 keys stand in for the "
        "global max) and not joined back to the bids; one change per input",
        "q7", scale=0.5, tags=("windowed",)),
    Workload(
        "nexmark-q8", "nexmark", ("person", "auction"),
        # Nexmark q8 (monitor new users): persons who opened an auction in the same 10 s tumbling
        # window: person and auction each windowed, joined on id = seller and window start.
        _PERSON + "\n" + _AUCTION + """
CREATE STREAM q8 WITH (KAFKA_TOPIC = '{o}q8') AS
  SELECT p.id AS id, p.name AS name, a.reserve AS reserve
  FROM person p JOIN auction a WITHIN 10 SECONDS ON p.id = a.seller EMIT CHANGES;""",
        "KSQL stream-stream join `WITHIN 10 SECONDS` (an interval join, not aligned tumbling windows); "
        "a person with several auctions is emitted once per auction",
        "q8", needs_joins=True, scale=0.25, tags=("join",)),
    Workload(
        "pageviews-tumbling-count", "pageviews", ("pageviews",),
        _PAGEVIEWS + """
CREATE TABLE pv_counts WITH (KAFKA_TOPIC = '{o}pv_counts') AS
  SELECT userid, COUNT(*) AS views FROM pageviews
  WINDOW TUMBLING (SIZE 1 MINUTE)
  GROUP BY userid EMIT CHANGES;""",
        "not Nexmark: ksqlDB's quickstart count per user per minute (10k users, keyed by user); "
        "one change per input", "pv_counts", tags=("windowed", "peer")),
    Workload(
        "enrich-join", "pageviews", ("users", "pageviews"),
        _USERS + "\n" + _PAGEVIEWS + """
CREATE STREAM pv_enriched WITH (KAFKA_TOPIC = '{o}pv_enriched') AS
  SELECT pv.userid AS userid, pv.pageid AS pageid, pv.viewtime AS viewtime, u.regionid AS regionid,
         u.gender AS gender
  FROM pageviews pv LEFT JOIN users u ON pv.userid = u.userid EMIT CHANGES;""",
        "not Nexmark: stream-table LEFT JOIN of pageviews with a 10k-user table (users loaded first)",
        "pv_enriched", needs_joins=True, tags=("join",)),
]

# The memory runs: a tumbling COUNT over N distinct keys (one state row per input record).
MEMORY_SQL = _PAGEVIEWS + """
CREATE TABLE mem_counts WITH (KAFKA_TOPIC = '{o}mem_counts') AS
  SELECT userid, COUNT(*) AS views FROM pageviews
  WINDOW TUMBLING (SIZE 1 HOUR)
  GROUP BY userid EMIT CHANGES;"""
MEMORY = Workload("memory-tumbling-count", "distinct", ("pageviews",), MEMORY_SQL,
                  "not Nexmark: every record a new key, all in one 1-hour window", "mem_counts",
                  tags=("memory",))

BY_NAME = {w.name: w for w in [*WORKLOADS, MEMORY]}


def get(name: str) -> Workload:
    """The workload called ``name``."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise SystemExit(f"unknown workload {name!r}; choose from {', '.join(BY_NAME)}") from None
