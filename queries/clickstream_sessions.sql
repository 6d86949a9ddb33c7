-- Clickstream sessionisation: group each user's clicks into sessions that end after 60 seconds
-- without a click (a SESSION window), with the clicks, bytes, distinct pages, entry and exit page
-- per session. When a click bridges two sessions, they merge (the replaced sessions are deleted
-- from the table).
--
-- Try it:
--   streamsql datagen --quickstart clickstream --topic clickstream --count 5000
--   streamsql run queries/clickstream_sessions.sql --until-idle

CREATE STREAM clickstream (
    _time    BIGINT,
    time     VARCHAR,
    ip       VARCHAR,
    request  VARCHAR,
    status   INT,
    userid   INT,
    bytes    BIGINT,
    agent    VARCHAR
) WITH (KAFKA_TOPIC = 'clickstream', VALUE_FORMAT = 'JSON', TIMESTAMP = '_time');

CREATE TABLE user_sessions WITH (KAFKA_TOPIC = 'user_sessions') AS
    SELECT userid,
           COUNT(*) AS clicks,
           SUM(bytes) AS bytes,
           COUNT_DISTINCT(request) AS distinct_requests,
           EARLIEST_BY_OFFSET(request) AS entry_request,
           LATEST_BY_OFFSET(request) AS exit_request
    FROM clickstream
    WINDOW SESSION (60 SECONDS)
    GROUP BY userid
    EMIT CHANGES;

-- Error pages per session, for a "users hitting errors" view.
CREATE TABLE user_session_errors WITH (KAFKA_TOPIC = 'user_session_errors') AS
    SELECT userid, COUNT(*) AS error_clicks
    FROM clickstream
    WINDOW SESSION (60 SECONDS)
    WHERE status >= 400
    GROUP BY userid
    EMIT CHANGES;
