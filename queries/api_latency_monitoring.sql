-- API response-time monitoring: per endpoint and minute, the request count, average and
-- maximum latency, a latency histogram, the top latencies and the error rate; a second table
-- keeps only the minutes that breach an alert threshold (HAVING), so its changelog topic is an
-- alert feed.
--
-- ksqlDB has no percentile aggregate. Two ways to get p50/p99 here:
--   * TOPK(latency_ms, 3) below is the slowest requests of the minute (the p99 tail while a
--     minute has fewer than ~300 requests);
--   * COLLECT_LIST keeps the minute's latencies in the materialised table, and DuckDB computes
--     exact percentiles over it ad hoc (the table lives in DuckDB under its own name):
--       streamsql query --server http://127.0.0.1:8088 "
--         SELECT endpoint, WINDOWSTART,
--                list_aggregate(latencies, 'quantile_cont', 0.5)  AS p50_ms,
--                list_aggregate(latencies, 'quantile_cont', 0.99) AS p99_ms
--         FROM api_latency_per_minute ORDER BY WINDOWSTART, endpoint"
--
-- Try it (sample requests are inserted by the script itself):
--   streamsql run queries/api_latency_monitoring.sql --listen 127.0.0.1:8088

CREATE STREAM api_requests (
    ts          BIGINT,
    endpoint    VARCHAR,
    status      INT,
    latency_ms  INT
) WITH (KAFKA_TOPIC = 'api_requests', VALUE_FORMAT = 'JSON', TIMESTAMP = 'ts', PARTITIONS = 1);

CREATE TABLE api_latency_per_minute WITH (KAFKA_TOPIC = 'api_latency_per_minute') AS
    SELECT endpoint,
           COUNT(*) AS requests,
           AVG(latency_ms) AS avg_ms,
           MAX(latency_ms) AS max_ms,
           TOPK(latency_ms, 3) AS slowest_ms,
           HISTOGRAM(CASE WHEN latency_ms < 100 THEN 'fast' WHEN latency_ms < 500 THEN 'ok' ELSE 'slow' END) AS latency_buckets,
           COLLECT_LIST(latency_ms) AS latencies,
           SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS server_errors,
           CAST(SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*) AS error_rate
    FROM api_requests
    WINDOW TUMBLING (SIZE 1 MINUTE)
    GROUP BY endpoint
    EMIT CHANGES;

-- Alert when a minute has a request slower than 1 s or more than 5% server errors.
CREATE TABLE api_latency_alerts WITH (KAFKA_TOPIC = 'api_latency_alerts') AS
    SELECT endpoint,
           COUNT(*) AS requests,
           MAX(latency_ms) AS max_ms,
           SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END) AS server_errors
    FROM api_requests
    WINDOW TUMBLING (SIZE 1 MINUTE)
    GROUP BY endpoint
    HAVING MAX(latency_ms) > 1000 OR SUM(CASE WHEN status >= 500 THEN 1 ELSE 0 END) * 20 > COUNT(*)
    EMIT CHANGES;

INSERT INTO api_requests (ts, endpoint, status, latency_ms) VALUES (1700000000000, '/checkout', 200, 120);
INSERT INTO api_requests (ts, endpoint, status, latency_ms) VALUES (1700000005000, '/checkout', 200, 95);
INSERT INTO api_requests (ts, endpoint, status, latency_ms) VALUES (1700000010000, '/checkout', 503, 1450);
INSERT INTO api_requests (ts, endpoint, status, latency_ms) VALUES (1700000020000, '/search', 200, 40);
INSERT INTO api_requests (ts, endpoint, status, latency_ms) VALUES (1700000030000, '/search', 200, 55);
INSERT INTO api_requests (ts, endpoint, status, latency_ms) VALUES (1700000040000, '/search', 200, 610);
INSERT INTO api_requests (ts, endpoint, status, latency_ms) VALUES (1700000070000, '/checkout', 200, 88);
INSERT INTO api_requests (ts, endpoint, status, latency_ms) VALUES (1700000075000, '/search', 500, 30);
