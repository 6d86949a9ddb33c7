-- Pageviews enriched with user profiles: a stream-table join looks each pageview's user up in
-- the USERS table (the latest profile per user), then pageviews are counted per region and
-- minute.
--
-- Try it:
--   streamsql datagen --quickstart users --topic users --count 9
--   streamsql datagen --quickstart pageviews --topic pageviews --count 10000
--   streamsql run queries/pageviews_enriched.sql --until-idle

CREATE TABLE users (
    userid        VARCHAR PRIMARY KEY,
    registertime  BIGINT,
    regionid      VARCHAR,
    gender        VARCHAR
) WITH (KAFKA_TOPIC = 'users', VALUE_FORMAT = 'JSON');

CREATE STREAM pageviews (
    viewtime  BIGINT,
    userid    VARCHAR,
    pageid    VARCHAR
) WITH (KAFKA_TOPIC = 'pageviews', VALUE_FORMAT = 'JSON', TIMESTAMP = 'viewtime');

CREATE STREAM pageviews_enriched WITH (KAFKA_TOPIC = 'pageviews_enriched') AS
    SELECT pv.userid AS userid,
           pv.pageid AS pageid,
           pv.viewtime AS viewtime,
           u.regionid AS regionid,
           u.gender AS gender
    FROM pageviews pv
    LEFT JOIN users u ON pv.userid = u.userid
    EMIT CHANGES;

CREATE TABLE pageviews_per_region WITH (KAFKA_TOPIC = 'pageviews_per_region') AS
    SELECT regionid, COUNT(*) AS views
    FROM pageviews_enriched
    WINDOW TUMBLING (SIZE 1 MINUTE)
    GROUP BY regionid
    EMIT CHANGES;
