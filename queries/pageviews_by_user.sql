-- Pageviews of a few users, re-keyed by page: a stateless persistent query (filter, project,
-- PARTITION BY) over the `pageviews` topic that `make demo` fills with sample data.
CREATE STREAM pageviews (
    viewtime BIGINT,
    userid   VARCHAR,
    pageid   VARCHAR
) WITH (KAFKA_TOPIC = 'pageviews', VALUE_FORMAT = 'JSON', TIMESTAMP = 'viewtime');

CREATE STREAM pageviews_selected WITH (KAFKA_TOPIC = 'pageviews_selected') AS
    SELECT pageid,
           UCASE(userid) AS user_upper,
           viewtime,
           TIMESTAMPTOSTRING(viewtime, 'yyyy-MM-dd HH:mm:ss', 'UTC') AS viewed_at
    FROM pageviews
    WHERE userid IN ('User_1', 'User_2', 'User_3')
    PARTITION BY pageid
    EMIT CHANGES;
