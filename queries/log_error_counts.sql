-- Log aggregation: applications ship JSON log lines to the `app_logs` topic; count the ERROR
-- lines per service per minute, with the last error message, and a per-host breakdown taken
-- from a nested JSON object. Dashboards read the tables with pull queries.
--
-- Try it (sample log lines are inserted by the script itself):
--   streamsql run queries/log_error_counts.sql --until-idle
--   streamsql query "SELECT * FROM errors_per_service WHERE service = 'payments';"

CREATE STREAM app_logs (
    ts       BIGINT,
    level    VARCHAR,
    service  VARCHAR,
    message  VARCHAR,
    context  STRUCT<host VARCHAR, region VARCHAR>
) WITH (KAFKA_TOPIC = 'app_logs', VALUE_FORMAT = 'JSON', TIMESTAMP = 'ts', PARTITIONS = 1);

CREATE TABLE errors_per_service WITH (KAFKA_TOPIC = 'errors_per_service') AS
    SELECT service,
           COUNT(*) AS errors,
           LATEST_BY_OFFSET(message) AS last_error
    FROM app_logs
    WINDOW TUMBLING (SIZE 1 MINUTE)
    WHERE level = 'ERROR'
    GROUP BY service
    EMIT CHANGES;

CREATE TABLE errors_per_host WITH (KAFKA_TOPIC = 'errors_per_host') AS
    SELECT context->host AS host,
           COUNT(*) AS errors
    FROM app_logs
    WINDOW TUMBLING (SIZE 1 MINUTE)
    WHERE level = 'ERROR'
    GROUP BY context->host
    EMIT CHANGES;

INSERT INTO app_logs (ts, level, service, message, context)
    VALUES (1700000000000, 'INFO', 'payments', 'charge accepted', STRUCT(host := 'pay-1', region := 'eu'));
INSERT INTO app_logs (ts, level, service, message, context)
    VALUES (1700000001000, 'ERROR', 'payments', 'card declined: timeout', STRUCT(host := 'pay-1', region := 'eu'));
INSERT INTO app_logs (ts, level, service, message, context)
    VALUES (1700000002000, 'ERROR', 'payments', 'gateway 502', STRUCT(host := 'pay-2', region := 'us'));
INSERT INTO app_logs (ts, level, service, message, context)
    VALUES (1700000003000, 'WARN', 'search', 'slow query', STRUCT(host := 'search-1', region := 'eu'));
INSERT INTO app_logs (ts, level, service, message, context)
    VALUES (1700000061000, 'ERROR', 'search', 'index unavailable', STRUCT(host := 'search-1', region := 'eu'));
